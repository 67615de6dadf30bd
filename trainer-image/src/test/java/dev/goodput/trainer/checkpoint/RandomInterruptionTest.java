package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TrainerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real run interrupted at random instants by SIGTERM and SIGKILL, restarted with the same command each time, as a
 * job on spot capacity would be: it ends byte-identical to a run that never was, with no failed save in any log and
 * never more than {@code keep + 1} checkpoint folders on disk. Instants are drawn from the whole life of a process
 * after its signal handlers are in place: data loading, resume, model building, training, and the saves that run
 * every 100 ms.
 *
 * <p>The same test is the benchmark of bench/results/checkpoint-interruptions-*.md, with more interruptions:
 * {@code -Dgoodput.interruptions=100 -Dgoodput.interruptions.sigkillShare=0.3 -Dgoodput.interruptions.steps=N
 * -Dgoodput.interruptions.seed=S -Dgoodput.interruptions.report=FILE}.
 */
class RandomInterruptionTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void randomlyInterruptedRunEndsByteIdentical(@TempDir Path dir) throws Exception {
        // 12 in the suite (about 90 s on 2 cores, a new seed each run); bench/checkpoint_interruptions.sh runs 100.
        int interruptions = Integer.getInteger("goodput.interruptions", 12);
        double sigkillShare = Double.parseDouble(System.getProperty("goodput.interruptions.sigkillShare", "0.3"));
        int steps = Integer.getInteger("goodput.interruptions.steps", 10000);
        long seed = Long.getLong("goodput.interruptions.seed", System.nanoTime());
        Random random = new Random(seed);
        InterruptedJob job = InterruptedJob.write(dir, steps);
        long referenceStart = System.nanoTime();
        String expected = job.referenceHash();
        double referenceSeconds = (System.nanoTime() - referenceStart) / 1e9;

        Path checkpoints = dir.resolve("interrupted");
        JobFolder folder = InterruptedJob.folder(checkpoints);
        List<String> journal = new ArrayList<>();
        int sigterms = 0, sigkills = 0, killsDuringSaves = 0, maxFolders = 0;
        long started = System.nanoTime();
        for (int i = 0; i < interruptions; i++) {
            boolean kill = random.nextDouble() < sigkillShare;
            // Up to 1.5 s after the first line: that covers loading, resume and up to about a second of training.
            long delayMillis = random.nextInt(1500);
            Path term = dir.resolve("term-" + i + ".json");
            Files.deleteIfExists(term);
            String what = (kill ? "SIGKILL" : "SIGTERM") + " +" + delayMillis + "ms";
            try (TrainerProcess p = job.start(checkpoints, term, List.of())) {
                await().atMost(Duration.ofSeconds(60)).until(() -> !p.lines().isEmpty());
                Thread.sleep(delayMillis);
                if (kill) {
                    p.sigkill();
                    assertThat(p.waitFor(30)).isEqualTo(137);
                    sigkills++;
                    // A temporary folder left behind means the kill landed inside a save.
                    boolean inSave = folder.leftovers().stream().anyMatch(n -> n.startsWith(CheckpointStore.TEMP_FOLDER_PREFIX));
                    if (inSave) killsDuringSaves++;
                    what += inSave ? " (during a save)" : "";
                } else {
                    p.sigterm();
                    int code = p.waitFor(60);
                    String log = String.join("\n", p.lines());
                    assertThat(code).as("%s; output:%n%s", what, log).isIn(ExitCodes.PREEMPTED, ExitCodes.FINISHED);
                    assertThat(code).as("the job finished before interruption %d of %d: raise goodput.interruptions.steps",
                            i + 1, interruptions).isEqualTo(ExitCodes.PREEMPTED);
                    TrainerReport r = JSON.readValue(term.toFile(), TrainerReport.class);
                    assertThat(r.lastCheckpoint.step).as(log).isEqualTo(r.progress.step);
                    sigterms++;
                    what += " -> step " + r.progress.step;
                }
                assertThat(InterruptedJob.failedSaves(p.lines())).as(what).isEmpty();
            }
            int folders = folder.stepFolderCount();
            maxFolders = Math.max(maxFolders, folders);
            assertThat(folders).as("step folders after %s", journal).isLessThanOrEqualTo(InterruptedJob.KEEP + 1);
            journal.add((i + 1) + ": " + what + "; newest valid step " + folder.newestValidStep() + ", " + folders + " folders");
        }
        double interruptedSeconds = (System.nanoTime() - started) / 1e9;
        int finalCode;
        List<String> finalLines;
        try (TrainerProcess p = job.start(checkpoints, dir.resolve("final.json"), List.of())) {
            finalCode = p.waitFor(600);
            finalLines = p.lines();
        }
        assertThat(finalCode).as(String.join("\n", finalLines)).isEqualTo(ExitCodes.FINISHED);
        assertThat(InterruptedJob.failedSaves(finalLines)).isEmpty();
        boolean identical = folder.stateHash(steps).equals(expected);
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("interruptions", interruptions);
        result.put("sigterm", sigterms);
        result.put("sigkill", sigkills);
        result.put("sigkillDuringSave", killsDuringSaves);
        result.put("steps", steps);
        result.put("seed", seed);
        result.put("byteIdentical", identical);
        result.put("maxStepFolders", maxFolders);
        result.put("finalStepFolders", folder.stepFolderCount());
        result.put("finalExitCode", finalCode);
        result.put("referenceSeconds", Math.round(referenceSeconds * 10) / 10.0);
        result.put("interruptedSeconds", Math.round(interruptedSeconds * 10) / 10.0);
        result.put("journal", journal);
        String report = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result);
        System.out.println(report);
        String reportFile = System.getProperty("goodput.interruptions.report");
        if (reportFile != null) Files.writeString(Path.of(reportFile), report);
        assertThat(identical).as("byte-identical after %s (seed %d)", journal, seed).isTrue();
        assertThat(folder.leftovers()).isEmpty();
        assertThat(folder.stepFolderCount()).isLessThanOrEqualTo(InterruptedJob.KEEP + 1);
    }
}
