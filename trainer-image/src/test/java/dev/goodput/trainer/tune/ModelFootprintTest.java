package dev.goodput.trainer.tune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.api.spec.TrainingSpec;
import dev.goodput.trainer.model.ModelFactory;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Counting a model's parameters without allocating them, and refusing one that cannot fit its memory. */
class ModelFootprintTest {
    static final Shape FASHION = new Shape(1, 28, 28);

    static ModelSpec model(String architecture, Integer width) {
        ModelSpec m = new ModelSpec();
        m.architecture = architecture;
        m.width = width;
        return m;
    }

    @Test
    void theCountIsTheRealNetworksParameterCount() {
        for (ModelSpec m : List.of(model("mlp", null), model("cnn", 16), model("resnet20", 8))) {
            long real = 0;
            try (NDManager manager = NDManager.newBaseManager()) {
                Block block = ModelFactory.build(m, 10);
                block.initialize(manager, DataType.FLOAT32, new Shape(1).addAll(FASHION));
                for (Pair<String, Parameter> p : block.getParameters()) {
                    real += p.getValue().getArray().size();
                }
            }
            assertThat(ModelFootprint.of(m, FASHION, 10, new TrainingSpec.OptimizerSpec()).parameters())
                    .as(m.architecture).isEqualTo(real);
        }
        // By hand for the default MLP (784 → 256 → 128 → 10, with biases).
        assertThat(ModelFootprint.of(model("mlp", null), FASHION, 10, null).parameters())
                .isEqualTo(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    }

    @Test
    void aResNet50AtWidth1024IsCountedWithoutAllocatingAndRefusedUnder1Gi() {
        long t0 = System.nanoTime();
        ModelFootprint f = ModelFootprint.of(model("resnet50", 1024), FASHION, 10, new TrainingSpec.OptimizerSpec());
        assertThat(f.parameters()).as("about 25.5 M × (1024 / 64)²").isGreaterThan(6_000_000_000L);
        assertThat((System.nanoTime() - t0) / 1e9).as("seconds: nothing of that size was allocated").isLessThan(30);
        // Weights; gradients and AdamW's two moments for what trains, which BatchNorm's running statistics do not.
        assertThat(f.trainable()).isLessThan(f.parameters()).isGreaterThan(f.parameters() * 99 / 100);
        assertThat(f.bytes()).isEqualTo(f.parameters() * 4 + f.trainable() * 4 * 3);
        assertThatThrownBy(() -> f.refuseBeyond(model("resnet50", 1024), 1L << 30, "spec.resources.memory"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("spec.model: resnet50 at width 1024 has ")
                .hasMessageContaining("more than the memory budget of 1.0 GiB (spec.resources.memory)")
                .hasMessageContaining("Lower spec.model.width");
    }

    @Test
    void frozenParametersCostTheirWeightsAlone() {
        ModelSpec m = model("mlp", null);
        m.trainable = "^06";
        ModelFootprint f = ModelFootprint.of(m, FASHION, 10, new TrainingSpec.OptimizerSpec());
        // Only the classifier (128 x 10 + 10) trains; every weight is still held.
        assertThat(f.trainable()).isEqualTo(128 * 10 + 10);
        assertThat(f.bytes()).isEqualTo(f.parameters() * 4 + f.trainable() * 4 * 3);
    }

    @Test
    void aModelThatFitsOrAJobWithoutABudgetIsNotRefused() {
        ModelFootprint f = ModelFootprint.of(model("cnn", null), FASHION, 10, null);
        f.refuseBeyond(model("cnn", null), 1L << 30, "spec.resources.memory");
        f.refuseBeyond(model("cnn", null), -1, "the container's memory limit");
        TrainingSpec.OptimizerSpec sgd = new TrainingSpec.OptimizerSpec();
        sgd.name = "sgd";
        assertThat(ModelFootprint.stateCopies(sgd)).isZero();
        sgd.momentum = 0.9;
        assertThat(ModelFootprint.stateCopies(sgd)).isEqualTo(1);
    }
}
