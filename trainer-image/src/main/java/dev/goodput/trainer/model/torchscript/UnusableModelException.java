package dev.goodput.trainer.model.torchscript;

/**
 * A user's TorchScript model that the trainer cannot train as it is: the file is missing, is not a TorchScript
 * archive, or its forward does not map the data's inputs to one logit per class. The message says what the user must
 * change; retrying the same file cannot succeed, so it is an IllegalArgumentException, which pre-flight refuses (exit 78).
 */
public class UnusableModelException extends IllegalArgumentException {
    public UnusableModelException(String message) {
        super(message);
    }

    public UnusableModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
