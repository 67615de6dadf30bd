package dev.goodput.trainer.checkpoint;

import java.util.Map;

/** manifest.json: written last, so a folder without a valid one is an unfinished or damaged checkpoint. */
public record CheckpointManifest(int version, long step, String createdAt, Map<String, FileEntry> files) {

    public record FileEntry(long bytes, String sha256) {}
}
