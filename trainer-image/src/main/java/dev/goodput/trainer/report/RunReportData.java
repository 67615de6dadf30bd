package dev.goodput.trainer.report;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * What the run report is drawn from, as JSON beside the job's checkpoints ({@code report-data.json}): the run writes
 * it in milliseconds once its final checkpoint is durable, and {@code trainer report <checkpoint-dir>} renders the page
 * from it in another process, so the charts (seconds of work) never stand between a SIGTERM and its save.
 */
public final class RunReportData {
    public static final String FILE_NAME = "report-data.json";
    private static final ObjectMapper JSON = new ObjectMapper().registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private RunReportData() {}

    /** Writes {@code dir/report-data.json}, replacing the previous one at once, and returns its path. */
    public static Path write(RunReport report, Path dir) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE_NAME);
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        try {
            JSON.writeValue(tmp.toFile(), report);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return file;
    }

    /** The data a run left in {@code dir}; a clear error when there is none. */
    public static RunReport read(Path dir) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        try {
            return JSON.readValue(file.toFile(), RunReport.class);
        } catch (java.io.FileNotFoundException | NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no run report data: a run writes it beside its"
                    + " checkpoints (goodput-runs/checkpoints/<job>/) when it ends");
        }
    }
}
