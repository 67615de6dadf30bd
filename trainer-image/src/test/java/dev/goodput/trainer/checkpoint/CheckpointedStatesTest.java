package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.trainer.precision.LossScaler;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checkpoint collects every component's state by key and restores each by key; what does not fit is named. */
class CheckpointedStatesTest {
    static final ObjectMapper JSON = new ObjectMapper();

    record Counter(long value, String label) {}

    /** A component holding one Counter. */
    static final class Holder {
        Counter state;

        Holder(long value) {
            state = new Counter(value, "c" + value);
        }

        CheckpointedState<Counter> component(String key) {
            return CheckpointedState.of(new CheckpointedState.Key<>(key, Counter.class), () -> state, s -> state = s);
        }
    }

    @Test
    void collectsEveryComponentByKeyAndRestoresEachByItsKey() {
        Holder a = new Holder(1), b = new Holder(2);
        LossScaler scaler = new LossScaler(1024, 3);
        scaler.update(false);
        scaler.update(true);
        scaler.update(false);
        Map<String, JsonNode> saved = new CheckpointedStates().register(a.component("a")).register(b.component("b"))
                .register(scaler).collect();
        assertThat(saved.keySet()).containsExactly("a", "b", LossScaler.KEY.name());

        Holder a2 = new Holder(0), b2 = new Holder(0);
        LossScaler scaler2 = new LossScaler(65536, 3);
        assertThat(new CheckpointedStates().register(b2.component("b")).register(a2.component("a")).register(scaler2)
                .restore(saved)).isEmpty();
        assertThat(a2.state).isEqualTo(new Counter(1, "c1"));
        assertThat(b2.state).isEqualTo(new Counter(2, "c2"));
        assertThat(scaler2.save()).isEqualTo(new LossScaler.State(512, 1, 1)).isEqualTo(scaler.save());
    }

    @Test
    void aRequiredComponentTheCheckpointLacksIsAnErrorNamingIt() {
        Map<String, JsonNode> saved = new CheckpointedStates().register(new Holder(1).component("a")).collect();
        Holder b = new Holder(5);
        assertThatThrownBy(() -> new CheckpointedStates().register(new Holder(0).component("a"))
                .register(b.component("position")).restore(saved))
                .isInstanceOf(CheckpointedStates.CheckpointStateException.class)
                .hasMessageContaining("no state for position").hasMessageContaining("it has a");
        assertThat(b.state.value()).isEqualTo(5);
    }

    @Test
    void anOptionalComponentTheCheckpointLacksKeepsItsInitialState() {
        // A job checkpointed in fp32, suspended, switched to fp16: the scaler starts where a fresh run would.
        Map<String, JsonNode> saved = new CheckpointedStates().register(new Holder(1).component("a")).collect();
        LossScaler scaler = new LossScaler(4096, 2000);
        assertThat(new CheckpointedStates().register(new Holder(0).component("a")).register(scaler).restore(saved)).isEmpty();
        assertThat(scaler.save()).isEqualTo(new LossScaler.State(4096, 0, 0));
    }

    @Test
    void aStateNoComponentClaimsIsNotRestoredAndIsNamed() {
        // The other way round: an fp16 checkpoint resumed in fp32 has a loss scale nothing of this run uses.
        Map<String, JsonNode> saved = new CheckpointedStates().register(new Holder(1).component("a"))
                .register(new LossScaler(8, 10)).collect();
        Holder a = new Holder(0);
        assertThat(new CheckpointedStates().register(a.component("a")).restore(saved)).containsExactly(LossScaler.KEY.name());
        assertThat(a.state.value()).isEqualTo(1);
    }

    @Test
    void aStateThatDoesNotReadAsItsRecordIsAnErrorNotADefault() {
        Map<String, JsonNode> saved = new LinkedHashMap<>();
        saved.put("a", JSON.createObjectNode().put("label", "no value field"));
        assertThatThrownBy(() -> new CheckpointedStates().register(new Holder(0).component("a")).restore(saved))
                .isInstanceOf(CheckpointedStates.CheckpointStateException.class)
                .hasMessageContaining("state for a does not read as Counter").hasMessageContaining("value");
        saved.put("a", JSON.createObjectNode().put("value", 1).put("label", "x").put("extra", 2));
        assertThatThrownBy(() -> new CheckpointedStates().register(new Holder(0).component("a")).restore(saved))
                .hasMessageContaining("extra");
    }

    @Test
    void keysAreUnique() {
        assertThatThrownBy(() -> new CheckpointedStates().register(new Holder(0).component("a"))
                .register(new Holder(1).component("a"))).hasMessageContaining("two checkpointed components with the key a");
    }
}
