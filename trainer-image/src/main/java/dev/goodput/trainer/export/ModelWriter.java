package dev.goodput.trainer.export;

import java.io.IOException;
import java.nio.file.Path;

/** Writes a trained model's files into a folder, in one documented format. */
public interface ModelWriter {
    /** The format's name in status.model.format. */
    String format();

    /** The file holding the weights, whose SHA-256 identifies the model. */
    String weightsFile();

    void writeTo(Path folder) throws IOException;
}
