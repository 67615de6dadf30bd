package dev.goodput.trainer.checkpoint;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.util.Locale;

/**
 * What a failed save means to the person who has to fix it. Java reports ENOSPC, EDQUOT, EROFS and EIO as plain
 * IOExceptions whose message is the C library's text, so the cause is read from the message.
 */
public final class SaveFailure {
    private SaveFailure() {}

    /** The cause in a few words: disk full, disk quota exceeded, permission denied, read-only file system, I/O error. */
    public static String cause(Throwable e) {
        String m = String.valueOf(messageOf(e)).toLowerCase(Locale.ROOT);
        if (m.contains("no space left on device")) return "disk full";
        if (m.contains("quota exceeded")) return "disk quota exceeded";
        if (e instanceof AccessDeniedException || m.contains("permission denied") || m.contains("operation not permitted")) {
            return "permission denied";
        }
        if (m.contains("read-only file system")) return "read-only file system";
        if (e instanceof IOException) return "I/O error";
        return "error";
    }

    /** "disk full (/ckpt/job/.tmp-step-5/parameters.bin: No space left on device)". */
    public static String describe(Throwable e) {
        return cause(e) + " (" + messageOf(e) + ")";
    }

    private static String messageOf(Throwable e) {
        if (e instanceof FileSystemException f) {
            String where = f.getFile() == null ? "" : f.getFile() + ": ";
            return where + (f.getReason() != null ? f.getReason() : f.getClass().getSimpleName());
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
