package dev.goodput.trainer.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;

/** The Java encoder against Hugging Face's BertModel on the same token ids (fixture from bert_reference.py). */
class BertEncoderReferenceTest {

    @Test
    void lastHiddenStateAndMeanPoolingMatchTransformers() {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            NDList ref = MiniLm.reference(m);
            NDArray ids = ref.get("input_ids");
            BertClassifier model = BertClassifier.pretrained(MiniLm.folder(), 2, null, m, (int) ids.getShape().get(1));
            ParameterStore ps = new ParameterStore(m, false);

            NDArray x = MiniLm.trainerInput(ids);
            NDArray hidden = model.encode(ps, x, false);
            assertThat(hidden.getShape()).isEqualTo(new Shape(3, 16, 384));
            float hiddenError = hidden.sub(ref.get("last_hidden_state")).abs().max().getFloat();
            TokenBatch tokens = model.tokens(x);
            assertThat(tokens.tokenMask().toType(ids.getDataType(), false).contentEquals(ref.get("attention_mask")))
                    .isTrue();
            float pooledError = BertClassifier.meanPool(hidden, tokens.tokenMask()).sub(ref.get("mean_pooled")).abs()
                    .max().getFloat();
            System.out.printf("MiniLM vs transformers: last hidden state max |diff| %.3g, mean pooled %.3g%n",
                    hiddenError, pooledError);
            assertThat(hiddenError).isLessThan(1e-5f);
            assertThat(pooledError).isLessThan(1e-5f);

            NDArray logits = model.forward(ps, new NDList(x), false).singletonOrThrow();
            assertThat(logits.getShape()).isEqualTo(new Shape(3, 2));
        }
    }
}
