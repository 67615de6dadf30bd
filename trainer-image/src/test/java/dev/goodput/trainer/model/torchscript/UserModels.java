package dev.goodput.trainer.model.torchscript;

import java.nio.file.Path;

/** The user network checked in as an example (examples/torchscript), which the tests train. */
final class UserModels {
    /** Written by examples/torchscript/export_model.py; the tests run in the trainer-image folder. */
    static final Path FASHION_CNN = Path.of("..", "examples", "torchscript", "fashion_cnn.pt");
    static final String[] BUFFERS = {"bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
            "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked"};

    private UserModels() {}
}
