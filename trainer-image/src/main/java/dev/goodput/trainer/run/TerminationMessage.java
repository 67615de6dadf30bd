package dev.goodput.trainer.run;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainerReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The JSON exit summary the kubelet copies into the pod's status; Kubernetes keeps at most 4 KiB of it. */
public final class TerminationMessage {
    static final int LIMIT = 4096;
    private static final ObjectMapper JSON = new ObjectMapper();

    private TerminationMessage() {}

    /** Writes {@code report} to {@code path} (none when null); over the limit, only its outcome and last checkpoint. */
    public static void write(Path path, TrainerReport report) {
        if (path == null) return;
        try {
            byte[] json = JSON.writeValueAsBytes(report);
            Files.write(path, json.length <= LIMIT ? json : JSON.writeValueAsBytes(trimmed(report)));
        } catch (IOException e) {
            System.err.println("goodput: cannot write termination message to " + path + ": " + e.getMessage());
        }
    }

    private static TrainerReport trimmed(TrainerReport r) {
        TrainerReport t = new TrainerReport();
        t.phase = r.phase;
        t.exitCode = r.exitCode;
        t.message = r.message == null ? null : r.message.substring(0, Math.min(2000, r.message.length()));
        t.lastCheckpoint = r.lastCheckpoint;
        return t;
    }
}
