package dev.goodput.trainer.distributed;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;

/**
 * Rank 0's address through a file on the job's shared checkpoint volume, for clusters where the ranks cannot count on
 * DNS to find rank 0: rank 0 writes {@code host:port} (atomically: a temporary file renamed into place), the others
 * wait for it up to the timeout. The operator names one file per attempt, so an earlier attempt's address is never
 * read. Only the store's address travels this way; the process group then connects the ranks to each other directly.
 */
final class RendezvousFile {
    private static final Duration POLL = Duration.ofMillis(200);

    private RendezvousFile() {}

    static void publish(Path file, String host, int port) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            Files.writeString(tmp, host + ":" + port + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new CollectiveFailure("cannot publish rank 0's address in " + file + ": " + e.getMessage());
        }
    }

    /** The address rank 0 published: {@code [host, port]}. */
    static String[] await(Path file, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                String text = Files.readString(file, StandardCharsets.UTF_8).trim();
                int colon = text.lastIndexOf(':');
                if (colon > 0) return new String[] {text.substring(0, colon), text.substring(colon + 1)};
            } catch (IOException notYet) {
                // Not written yet.
            }
            if (System.nanoTime() > deadline) {
                throw new CollectiveFailure("rank 0 did not publish its address in " + file + " within "
                        + timeout.toSeconds() + " s (" + World.TIMEOUT_ENV + ")");
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveFailure("interrupted while waiting for rank 0's address");
            }
        }
    }
}
