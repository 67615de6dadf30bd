package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.goodput.trainer.model.TrainableParameters;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** spec.model.trainable: only the parameters the regex matches train; the others keep their values. */
class TrainableParametersTest extends PyTorchManagerTest {

    @Test
    void onlyMatchedParametersChangeAndTheOptimizerSeesOnlyThem() {
        List<String>[] trained = new List[1];
        UserModelRun run = new UserModelRun(manager,
                m -> trained[0] = TrainableParameters.freezeAllBut(m.block(), "^(head|norm)\\."));
        assertThat(trained[0]).containsExactly("norm.weight", "norm.bias", "head.weight", "head.bias");
        Map<String, float[]> before = values(run);
        for (int s = 0; s < 2; s++) run.step(s);
        Map<String, float[]> after = values(run);
        for (String name : before.keySet()) {
            if (trained[0].contains(name)) assertThat(after.get(name)).as(name).isNotEqualTo(before.get(name));
            else assertThat(after.get(name)).as(name).isEqualTo(before.get(name));
        }
        assertThat(run.optimizer.state()).containsOnlyKeys("m/norm.weight", "m/norm.bias", "m/head.weight",
                "m/head.bias", "v/norm.weight", "v/norm.bias", "v/head.weight", "v/head.bias");
        // Frozen layers still run in train mode: BatchNorm's statistics move whatever is trained.
        assertThat(run.model.buffers().read().get("bn1.num_batches_tracked")).isNotNull();
    }

    @Test
    void aRegexThatMatchesNothingIsRefusedWithTheNames() {
        TorchScriptModel m = TorchScriptLoader.load(UserModels.FASHION_CNN, manager, TorchScriptLoaderTest.ONE, 10);
        assertThatThrownBy(() -> TrainableParameters.freezeAllBut(m.block(), "^classifier\\."))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("matches none")
                .hasMessageContaining("head.weight");
        for (Pair<String, Parameter> p : m.block().getParameters()) assertThat(p.getValue().requiresGradient()).isTrue();
    }

    @Test
    void anInvalidRegexIsRefused() {
        TorchScriptModel m = TorchScriptLoader.load(UserModels.FASHION_CNN, manager, TorchScriptLoaderTest.ONE, 10);
        assertThatThrownBy(() -> TrainableParameters.freezeAllBut(m.block(), "head("))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a regular expression");
    }

    private static Map<String, float[]> values(UserModelRun run) {
        Map<String, float[]> v = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : run.model.block().getParameters()) {
            v.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return v;
    }
}
