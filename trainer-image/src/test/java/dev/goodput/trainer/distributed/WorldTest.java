package dev.goodput.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class WorldTest {
    @Test
    void withoutWorldSizeTheRunIsOneProcess() {
        World w = World.fromEnvironment(Map.of("RANK", "3"));
        assertThat(w.distributed()).isFalse();
        assertThat(w.leader()).isTrue();
        assertThat(w.timeout()).isEqualTo(World.DEFAULT_TIMEOUT);
    }

    @Test
    void readsWhatTorchrunSets() {
        World w = World.fromEnvironment(Map.of("WORLD_SIZE", "4", "RANK", "2", "LOCAL_RANK", "0", "MASTER_ADDR",
                "job-0.job", "MASTER_PORT", "29501", World.TIMEOUT_ENV, "30"));
        assertThat(w).isEqualTo(new World(2, 4, 0, 1, "job-0.job", 29501, Duration.ofSeconds(30), null, null));
        assertThat(w.distributed()).isTrue();
        assertThat(w.leader()).isFalse();
        assertThat(World.fromEnvironment(Map.of("WORLD_SIZE", "2", "RANK", "0", "MASTER_ADDR", "h")).masterPort())
                .isEqualTo(29500);
    }

    @Test
    void aRendezvousFileStandsInForMasterAddr() {
        World w = World.fromEnvironment(Map.of("WORLD_SIZE", "2", "RANK", "1", World.RENDEZVOUS_FILE_ENV,
                "/checkpoints/uid/c10d/attempt-3", World.OWN_ADDRESS_ENV, "10.253.1.7"));
        assertThat(w.rendezvousFile()).isEqualTo("/checkpoints/uid/c10d/attempt-3");
        assertThat(w.ownAddress()).isEqualTo("10.253.1.7");
        assertThat(w.masterAddr()).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            WORLD_SIZE=0                                | WORLD_SIZE must be at least 1
            WORLD_SIZE=two                              | WORLD_SIZE must be an integer
            WORLD_SIZE=2,MASTER_ADDR=h                  | RANK must be set to 0..1
            WORLD_SIZE=2,RANK=2,MASTER_ADDR=h           | RANK must be set to 0..1
            WORLD_SIZE=2,RANK=1                         | MASTER_ADDR must name rank 0's host
            WORLD_SIZE=2,RANK=1,MASTER_ADDR=h,MASTER_PORT=70000 | MASTER_PORT must be a TCP port
            WORLD_SIZE=2,RANK=1,MASTER_ADDR=h,LOCAL_RANK=1 | LOCAL_RANK must be in 0..0
            GOODPUT_COLLECTIVE_TIMEOUT_SECONDS=0        | GOODPUT_COLLECTIVE_TIMEOUT_SECONDS must be a positive
            """)
    void refusesWhatCannotBeRight(String env, String message) {
        Map<String, String> vars = new java.util.HashMap<>();
        for (String kv : env.split(",")) vars.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        assertThatThrownBy(() -> World.fromEnvironment(vars)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }
}
