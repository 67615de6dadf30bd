package dev.goodput.trainer.config;

/**
 * The manifest cannot run as written: exit 78 ({@link dev.goodput.api.ExitCodes#CONFIG_ERROR}), which the operator
 * never retries. Raised only by pre-flight (parse, validate, the data is there, the plan resolves), before anything is
 * allocated or written; whatever goes wrong after it (a data file that cannot be read, an error in a step) is an
 * ordinary failure, retried after the back-off, because it may not happen again.
 */
public class ConfigRefusal extends RuntimeException {
    public ConfigRefusal(String message, Throwable cause) {
        super(message, cause);
    }
}
