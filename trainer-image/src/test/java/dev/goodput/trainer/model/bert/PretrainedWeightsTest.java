package dev.goodput.trainer.model.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Loading by name: the names are the file's, and a mismatch is named, not half-loaded. */
class PretrainedWeightsTest {
    /** A MiniLM-shaped model with one layer: fast, and its names are a subset of the file's. */
    private static final BertConfig ONE_LAYER = new BertConfig(30522, 384, 1, 12, 1536, 512, 2, 1e-12f, 0.1f, 0.1f, 0, 0.02f);

    @Test
    void parameterNamesAreTheStateDictNames() {
        BertClassifier model = new BertClassifier(ONE_LAYER, 2, null);
        assertThat(model.getParameters().keys()).containsExactlyInAnyOrder(
                "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
                "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.attention.self.query.bias",
                "encoder.layer.0.attention.self.key.weight", "encoder.layer.0.attention.self.key.bias",
                "encoder.layer.0.attention.self.value.weight", "encoder.layer.0.attention.self.value.bias",
                "encoder.layer.0.attention.output.dense.weight", "encoder.layer.0.attention.output.dense.bias",
                "encoder.layer.0.attention.output.LayerNorm.weight", "encoder.layer.0.attention.output.LayerNorm.bias",
                "encoder.layer.0.intermediate.dense.weight", "encoder.layer.0.intermediate.dense.bias",
                "encoder.layer.0.output.dense.weight", "encoder.layer.0.output.dense.bias",
                "encoder.layer.0.output.LayerNorm.weight", "encoder.layer.0.output.LayerNorm.bias",
                "classifier.weight", "classifier.bias");
    }

    @Test
    void aFileWithMoreLayersThanTheModelIsRefusedNamingTheExtraTensors() {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            BertClassifier model = new BertClassifier(ONE_LAYER, 2, null);
            model.initialize(m, DataType.FLOAT32, new Shape(1, 1, 1, 8));
            float before = model.getParameters().get("embeddings.LayerNorm.weight").getArray().getFloat(0);
            assertThatThrownBy(() -> PretrainedWeights.load(model, MiniLm.folder()))
                    .hasMessageContaining("unexpected: [encoder.layer.1.")
                    .hasMessageNotContaining("pooler")
                    .hasMessageNotContaining("missing");
            // Nothing was copied: the refusal happens before any parameter changes.
            assertThat(model.getParameters().get("embeddings.LayerNorm.weight").getArray().getFloat(0)).isEqualTo(before);
        }
    }

    @Test
    void missingAndMisshapedTensorsAreNamed() {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            BertClassifier model = new BertClassifier(new BertConfig(100, 8, 1, 2, 16, 16, 2, 1e-12f, 0f, 0f, 0, 0.02f), 2, null);
            model.initialize(m, DataType.FLOAT32, new Shape(1, 1, 1, 4));
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (Pair<String, Parameter> p : model.getParameters()) tensors.put(p.getKey(), p.getValue().getArray());
            tensors.remove("encoder.layer.0.output.dense.bias");
            tensors.put("classifier.weight", m.zeros(new Shape(3, 8)));
            assertThatThrownBy(() -> PretrainedWeights.assign(model, tensors))
                    .hasMessageContaining("missing: [encoder.layer.0.output.dense.bias]")
                    .hasMessageContaining("classifier.weight is float32(3, 8), the model's float32(2, 8)");
        }
    }

    @Test
    void theHeadIsNewAndTheRestComesFromTheFile() {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            BertClassifier model = BertClassifier.pretrained(MiniLm.folder(), 3, null, m, 8);
            NDArray ln = model.getParameters().get("embeddings.LayerNorm.weight").getArray();
            // LayerNorm weights start at 1; trained ones are not.
            assertThat(ln.sub(1f).abs().max().getFloat()).isGreaterThan(0.01f);
            NDArray head = model.getParameters().get("classifier.weight").getArray();
            assertThat(head.getShape()).isEqualTo(new Shape(3, 384));
            float std = head.pow(2).mean().sqrt().getFloat();
            assertThat(std).isBetween(0.018f, 0.022f);
            assertThat(model.getParameters().get("classifier.bias").getArray().abs().max().getFloat()).isZero();
            List<String> trainable = model.getParameters().stream().filter(p -> p.getValue().requiresGradient())
                    .map(Pair::getKey).toList();
            assertThat(trainable).hasSize(model.getParameters().size());
        }
    }
}
