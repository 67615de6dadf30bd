package dev.goodput.trainer.checkpoint;

import java.util.List;

/**
 * Every instant of the save protocol between two file-system calls, in the order a save reaches them. The crash
 * consistency test kills the trainer at each in turn ({@link FaultInjection}); whatever instant a process dies at, the
 * newest checkpoint that verifies is intact and the next save succeeds.
 */
public enum SavePoint {
    /** A leftover of an interrupted save (temporary folder, temporary pointer, folder being discarded) was removed. */
    LEFTOVER_REMOVED,
    /** The hidden temporary folder exists, empty. */
    FOLDER_CREATED,
    PARAMETERS_CREATED, PARAMETERS_HALF_WRITTEN, PARAMETERS_WRITTEN, PARAMETERS_SYNCED,
    OPTIMIZER_CREATED, OPTIMIZER_HALF_WRITTEN, OPTIMIZER_WRITTEN, OPTIMIZER_SYNCED,
    STATE_CREATED, STATE_HALF_WRITTEN, STATE_WRITTEN, STATE_SYNCED,
    MANIFEST_CREATED, MANIFEST_HALF_WRITTEN, MANIFEST_WRITTEN, MANIFEST_SYNCED,
    /** Every file of the temporary folder is durable, and so is its listing. */
    FOLDER_SYNCED,
    /** The temporary folder was renamed to {@code step-<n>}: from here the checkpoint exists. */
    RENAMED,
    /** The rename is durable. */
    PARENT_SYNCED,
    /** The temporary pointer file holds the new name and is durable. */
    POINTER_WRITTEN,
    /** {@code latest} was replaced by the temporary pointer. */
    POINTER_REPLACED,
    POINTER_SYNCED,
    /** A folder that retention (or a damaged one at the target name) gives up was renamed out of the step names. */
    DISCARD_RENAMED,
    /** Half of a discarded folder's files are deleted. */
    DISCARD_HALF_DELETED;

    /** The four instants of writing one file: created empty, half its bytes written, all written, fsynced. */
    record FileStages(SavePoint created, SavePoint halfWritten, SavePoint written, SavePoint synced) {}

    static FileStages of(String file) {
        List<SavePoint> all = List.of(values());
        int first = switch (file) {
            case CheckpointStore.PARAMETERS -> all.indexOf(PARAMETERS_CREATED);
            case CheckpointStore.OPTIMIZER -> all.indexOf(OPTIMIZER_CREATED);
            case CheckpointStore.STATE -> all.indexOf(STATE_CREATED);
            case CheckpointStore.MANIFEST -> all.indexOf(MANIFEST_CREATED);
            default -> throw new IllegalArgumentException("not a checkpoint file: " + file);
        };
        return new FileStages(all.get(first), all.get(first + 1), all.get(first + 2), all.get(first + 3));
    }
}
