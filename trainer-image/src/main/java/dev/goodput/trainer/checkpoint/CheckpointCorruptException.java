package dev.goodput.trainer.checkpoint;

import java.io.IOException;

/** A checkpoint folder that fails verification: missing manifest, wrong size, checksum mismatch, unreadable file. */
public class CheckpointCorruptException extends IOException {
    public CheckpointCorruptException(String message) {
        super(message);
    }
}
