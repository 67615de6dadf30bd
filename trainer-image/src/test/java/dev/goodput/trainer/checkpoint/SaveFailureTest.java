package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What each failed save reads as, from the exceptions Java raises for the C library's errors. */
class SaveFailureTest {
    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(new IOException("No space left on device"), "disk full", "disk full (No space left on device)"),
                Arguments.of(new FileSystemException("/ckpt/job/.tmp-step-5-1-2", null, "No space left on device"), "disk full",
                        "disk full (/ckpt/job/.tmp-step-5-1-2: No space left on device)"),
                Arguments.of(new IOException("Disk quota exceeded"), "disk quota exceeded", "disk quota exceeded (Disk quota exceeded)"),
                Arguments.of(new AccessDeniedException("/ckpt/job"), "permission denied", "permission denied (/ckpt/job: AccessDeniedException)"),
                Arguments.of(new FileSystemException("/ckpt/job", null, "Read-only file system"), "read-only file system",
                        "read-only file system (/ckpt/job: Read-only file system)"),
                Arguments.of(new IOException("Input/output error"), "I/O error", "I/O error (Input/output error)"),
                Arguments.of(new IllegalStateException("bug"), "error", "error (bug)"));
    }

    @ParameterizedTest
    @MethodSource("failures")
    void describesTheCauseFirst(Throwable e, String cause, String description) {
        assertThat(SaveFailure.cause(e)).isEqualTo(cause);
        assertThat(SaveFailure.describe(e)).isEqualTo(description);
    }
}
