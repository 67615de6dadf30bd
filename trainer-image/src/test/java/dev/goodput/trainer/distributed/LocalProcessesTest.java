package dev.goodput.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LocalProcessesTest {
    @ParameterizedTest(name = "--processes {0}, gpus {1}, {2} devices, batch {3}, {4} pods -> {5}")
    @CsvSource(nullValues = "-", textBlock = """
            -, -, 0, 128, 1, 1
            -, 0, 0, 128, 1, 1
            -, 1, 1, 128, 1, 1
            -, 4, 4, 128, 1, 4
            -, 4, 0, 128, 1, 1
            -, 4, 2, 128, 1, 2
            -, 3, 3, 128, 1, 1
            -, 2, 2, 128, 4, 2
            -, 2, 2, 100, 4, 1
            2, 0, 0, 128, 1, 2
            1, 4, 4, 128, 1, 1
            3, 0, 0, 128, 1, 3
            """)
    void oneProcessPerGpuThePodHasWhenTheBatchDividesUnlessTold(Integer flag, Integer gpus, int devices, int batch, int pods,
                                                                int expected) {
        LocalProcesses.Count c = LocalProcesses.count(flag, gpus, devices, batch, pods, false);
        assertThat(c.processes()).isEqualTo(expected);
        // Replicas instead of processes is said; an explicit --processes is the user's (the trainer refuses a batch that
        // does not divide, naming the field).
        assertThat(c.note() != null).isEqualTo(flag == null && expected == 1 && gpus != null && Math.min(gpus, devices) > 1);
        assertThat(LocalProcesses.count(flag, gpus, devices, batch, pods, true).processes())
                .as("a started process never launches again").isEqualTo(1);
    }

    @Test
    void aLonePodsProcessesMeetOnLoopbackAndCountProcesses() {
        Map<String, String> pod = new HashMap<>(Map.of("WORLD_SIZE", "1", "RANK", "0", "GOODPUT_JOB_UID", "u"));
        Map<String, String> env = LocalProcesses.environment(pod, 2, 4, 31000);
        assertThat(env).containsEntry("WORLD_SIZE", "4").containsEntry("RANK", "2").containsEntry("LOCAL_RANK", "2")
                .containsEntry("LOCAL_WORLD_SIZE", "4").containsEntry("MASTER_ADDR", "127.0.0.1")
                .containsEntry("MASTER_PORT", "31000").containsEntry("GOODPUT_JOB_UID", "u")
                .containsKey(LocalProcesses.CHILD_ENV);
    }

    @Test
    void aGangPodsProcessesKeepTheGangsRendezvousAndNumberAcrossPods() {
        Map<String, String> pod = Map.of("WORLD_SIZE", "3", "RANK", "2", "NODE_RANK", "2", "MASTER_ADDR", "job-1-0.job-workers",
                "MASTER_PORT", "29500", World.RENDEZVOUS_FILE_ENV, "/checkpoints/u/c10d/attempt-1");
        Map<String, String> env = LocalProcesses.environment(pod, 1, 2, 31000);
        assertThat(env).containsEntry("WORLD_SIZE", "6").containsEntry("RANK", "5").containsEntry("LOCAL_RANK", "1")
                .containsEntry("NODE_RANK", "2").containsEntry("MASTER_ADDR", "job-1-0.job-workers")
                .containsEntry("MASTER_PORT", "29500").containsEntry(World.RENDEZVOUS_FILE_ENV, "/checkpoints/u/c10d/attempt-1");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            0,0      | 0
            75,75    | 75
            0,75     | 75
            1,75     | 1
            75,74    | 74
            75,137   | 137
            78,1     | 78
            """)
    void thePodsExitCodeIsItsProcessesVerdict(String codes, int expected) {
        List<Integer> c = java.util.Arrays.stream(codes.split(",")).map(Integer::valueOf).toList();
        assertThat(LocalProcesses.exitCode(c)).isEqualTo(expected);
    }
}
