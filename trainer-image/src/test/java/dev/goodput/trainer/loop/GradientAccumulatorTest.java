package dev.goodput.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.HostBatch;
import dev.goodput.trainer.data.IdxReader;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.model.ModelFactory;
import dev.goodput.trainer.optim.TrainableParameter;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GradientAccumulatorTest {

    @Test
    void accumulatingKMicroBatchesEqualsTheFullBatchGradient() throws Exception {
        ExampleSet set = IdxReader.read(TestJobs.FASHION_MNIST, "t10k").slice(64);
        BatchAssembler asm = new BatchAssembler(set, Normalization.of(set), null, 1);
        Engine engine = Engine.getEngine("PyTorch");
        engine.setRandomSeed(3);
        try (NDManager m = NDManager.newBaseManager(engine.defaultDevice(), "PyTorch")) {
            ModelSpec spec = new ModelSpec();
            spec.architecture = "mlp";
            Block block = ModelFactory.build(spec, 10);
            block.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
            GradientAccumulator acc = new GradientAccumulator(block, new ParameterStore(m, false));

            List<float[]> full = new ArrayList<>();
            try (NDScope s = new NDScope()) {
                acc.forwardBackward(x(m, asm, 0, 64), y(m, asm, 0, 64));
                for (TrainableParameter p : acc.gradients()) full.add(p.gradient().toFloatArray());
            }
            acc.zeroGradients();
            int k = 4;
            List<float[]> accumulated = new ArrayList<>();
            try (NDScope s = new NDScope()) {
                for (int i = 0; i < k; i++) acc.forwardBackward(x(m, asm, i * 16, 16), y(m, asm, i * 16, 16));
                for (TrainableParameter p : acc.gradients()) accumulated.add(p.gradient().mul(1f / k).toFloatArray());
            }
            assertThat(full).hasSize(6);
            double maxDiff = 0;
            double maxAbs = 0;
            for (int i = 0; i < full.size(); i++) {
                for (int j = 0; j < full.get(i).length; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(full.get(i)[j] - accumulated.get(i)[j]));
                    maxAbs = Math.max(maxAbs, Math.abs(full.get(i)[j]));
                }
            }
            assertThat(maxAbs).isGreaterThan(1e-3); // the gradients are not trivially zero
            assertThat(maxDiff).isLessThan(1e-6);

            acc.zeroGradients();
            try (NDScope s = new NDScope()) {
                for (TrainableParameter p : acc.gradients()) assertThat(p.gradient().abs().max().getFloat()).isZero();
            }
        }
    }

    private static NDArray x(NDManager m, BatchAssembler asm, int from, int n) {
        HostBatch b = asm.assemble(null, from, n, 0, false);
        return m.create(FloatBuffer.wrap(b.x()), new Shape(n, 1, 28, 28));
    }

    private static NDArray y(NDManager m, BatchAssembler asm, int from, int n) {
        return m.create(asm.assemble(null, from, n, 0, false).y());
    }
}
