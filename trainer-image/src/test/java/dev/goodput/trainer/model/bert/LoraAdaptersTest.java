package dev.goodput.trainer.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.optim.AdamW;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** LoRA on MiniLM's query and value projections, trained with the trainer's own gradient source and AdamW. */
class LoraAdaptersTest {
    private static final LoraSettings QUERY_VALUE = new LoraSettings(8, 16, 0.1, List.of("query", "value"));

    @BeforeEach
    void seed() {
        Engine.getEngine("PyTorch").setRandomSeed(11);
    }

    @Test
    void onlyAdaptersAndHeadTrainAndTheyAreUnderOnePercent() {
        try (NDManager m = newManager()) {
            BertClassifier lora = BertClassifier.pretrained(MiniLm.folder(), 2, QUERY_VALUE, m, 16);
            long all = count(lora, false);
            long trainable = count(lora, true);
            System.out.printf("MiniLM + LoRA r8 on query, value, 2 classes: %,d parameters, %,d trainable (%.2f%%)%n",
                    all, trainable, 100.0 * trainable / all);
            // 6 layers x 2 projections x (8 x 384 + 384 x 8) adapters + the 384 x 2 + 2 head.
            assertThat(trainable).isEqualTo(6 * 2 * (8 * 384 + 384 * 8) + 384 * 2 + 2).isEqualTo(74_498);
            assertThat(all).isEqualTo(22_566_146 + 6 * 2 * (8 * 384 + 384 * 8));
            assertThat((double) trainable / all).isLessThanOrEqualTo(0.01);
            for (Pair<String, Parameter> p : lora.getParameters()) {
                assertThat(p.getValue().requiresGradient()).as(p.getKey())
                        .isEqualTo(BertClassifier.isNew(p.getKey()));
                assertThat(p.getValue().getArray().hasGradient()).as(p.getKey())
                        .isEqualTo(BertClassifier.isNew(p.getKey()));
            }
            BertClassifier full = BertClassifier.build(MiniLm.folder(), 2, null);
            full.initialize(m, DataType.FLOAT32, new Shape(1, 1, 1, 16));
            assertThat(count(full, true)).isEqualTo(count(full, false)).isEqualTo(22_566_146);
        }
    }

    @Test
    void atInitTheAdaptedModelComputesExactlyWhatTheBaseModelDoes() {
        try (NDManager m = newManager()) {
            BertClassifier base = BertClassifier.pretrained(MiniLm.folder(), 2, null, m, 16);
            BertClassifier lora = BertClassifier.pretrained(MiniLm.folder(), 2, QUERY_VALUE, m, 16);
            copyHead(lora, base);
            NDArray x = MiniLm.trainerInput(MiniLm.reference(m).get("input_ids"));
            ParameterStore ps = new ParameterStore(m, false);
            NDArray expected = base.forward(ps, new NDList(x), false).singletonOrThrow();
            NDArray actual = lora.forward(ps, new NDList(x), false).singletonOrThrow();
            assertThat(actual.contentEquals(expected)).isTrue();
            assertThat(lora.encode(ps, x, false).contentEquals(base.encode(ps, x, false))).isTrue();
        }
    }

    @Test
    void trainingChangesAdaptersAndHeadOnlyAndMergingKeepsTheLogits() {
        try (NDManager m = newManager()) {
            BertClassifier lora = BertClassifier.pretrained(MiniLm.folder(), 2, QUERY_VALUE, m, 16);
            Map<String, float[]> before = values(lora);
            NDArray x = MiniLm.trainerInput(MiniLm.reference(m).get("input_ids"));
            NDArray y = m.create(new int[] {1, 0, 0});
            GradientAccumulator gradients = new GradientAccumulator(lora, new ParameterStore(m, false));
            AdamW adamW = new AdamW(m, 0.9, 0.999, 1e-8, 0.01);
            for (int step = 0; step < 3; step++) {
                try (NDScope scope = new NDScope()) {
                    gradients.forwardBackward(x, y, 1f);
                    adamW.step(gradients.gradients(), 1e-3, 1f);
                    gradients.zeroGradients();
                }
            }
            assertThat(gradients.gradients()).hasSize(6 * 2 * 2 + 2);
            Map<String, float[]> after = values(lora);
            for (String name : before.keySet()) {
                if (BertClassifier.isNew(name)) {
                    assertThat(after.get(name)).as(name).isNotEqualTo(before.get(name));
                } else {
                    assertThat(after.get(name)).as(name).isEqualTo(before.get(name));
                }
            }

            // Three small steps leave B small; larger adapters make the merge check mean something.
            for (Pair<String, Parameter> p : lora.getParameters()) {
                if (p.getKey().endsWith(".lora_B")) {
                    NDArray b = p.getValue().getArray();
                    b.set(m.randomNormal(0, 0.05f, b.getShape(), DataType.FLOAT32).toByteBuffer());
                }
            }
            Map<String, NDArray> mergedParameters = lora.mergedParameters(m);
            assertThat(mergedParameters.keySet()).noneMatch(n -> n.contains("lora"));
            BertClassifier merged = new BertClassifier(lora.config(), 2, null);
            merged.initialize(m, DataType.FLOAT32, new Shape(1, 1, 1, 16));
            PretrainedWeights.assign(merged, mergedParameters);
            BertClassifier base = BertClassifier.pretrained(MiniLm.folder(), 2, null, m, 16);
            copyHead(lora, base);

            ParameterStore ps = new ParameterStore(m, false);
            NDArray adapted = lora.forward(ps, new NDList(x), false).singletonOrThrow();
            NDArray plain = merged.forward(ps, new NDList(x), false).singletonOrThrow();
            NDArray unadapted = base.forward(ps, new NDList(x), false).singletonOrThrow();
            float mergeError = adapted.sub(plain).abs().max().getFloat();
            float adapterEffect = adapted.sub(unadapted).abs().max().getFloat();
            float hiddenError = lora.encode(ps, x, false).sub(merged.encode(ps, x, false)).abs().max().getFloat();
            System.out.printf("merged vs adapter: logits max |diff| %.3g (the adapters move them by %.3g), "
                    + "last hidden state %.3g%n", mergeError, adapterEffect, hiddenError);
            assertThat(adapterEffect).isGreaterThan(1e-2f);
            assertThat(mergeError).isLessThan(1e-5f);
            assertThat(hiddenError).isLessThan(1e-4f);
        }
    }

    private static NDManager newManager() {
        return NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
    }

    private static long count(BertClassifier model, boolean trainableOnly) {
        return model.getParameters().values().stream().filter(p -> !trainableOnly || p.requiresGradient())
                .mapToLong(p -> p.getArray().size()).sum();
    }

    private static Map<String, float[]> values(BertClassifier model) {
        Map<String, float[]> v = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getParameters()) v.put(p.getKey(), p.getValue().getArray().toFloatArray());
        return v;
    }

    private static void copyHead(BertClassifier from, BertClassifier to) {
        for (String name : List.of("classifier.weight", "classifier.bias")) {
            to.getParameters().get(name).getArray().set(from.getParameters().get(name).getArray().toByteBuffer());
        }
    }
}
