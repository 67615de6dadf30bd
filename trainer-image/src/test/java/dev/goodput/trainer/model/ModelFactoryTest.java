package dev.goodput.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.goodput.api.spec.ModelSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The architectures against the published parameter counts of their reference implementations. */
class ModelFactoryTest {

    static long trainableParameters(String arch, Shape input) {
        ModelSpec spec = new ModelSpec();
        spec.architecture = arch;
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            Block b = ModelFactory.build(spec, 10);
            b.initialize(m, DataType.FLOAT32, input);
            long n = 0;
            for (var p : b.getParameters()) {
                if (p.getValue().requiresGradient()) n += p.getValue().getArray().size();
            }
            return n;
        }
    }

    @ParameterizedTest
    @CsvSource({
            // torchvision resnet18/resnet50 with a 10-class head (11,689,512 and 25,557,032 with 1,000 classes).
            "resnet18, 3, 224, 11181642",
            "resnet50, 3, 224, 23528522",
            // He et al.'s CIFAR ResNet-20 has 269,722 with zero-padding (option A) shortcuts; ours projects (option B),
            // which adds two 1x1 convolutions with BatchNorm: 512 + 64 + 2,048 + 128 = 2,752.
            "resnet20, 3, 32, 272474",
            // The MLP 784-256-128-10 of the benchmarks.
            "mlp, 1, 28, 235146",
    })
    void parameterCountsMatchTheReferenceArchitectures(String arch, int channels, int size, long expected) {
        assertThat(trainableParameters(arch, new Shape(1, channels, size, size))).isEqualTo(expected);
    }

    @Test
    void resnet20TrainsOnFashionMnistShapedInput() {
        ModelSpec spec = new ModelSpec();
        spec.architecture = "resnet20";
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager m = NDManager.newBaseManager(engine.defaultDevice(), "PyTorch")) {
            Block b = ModelFactory.build(spec, 10);
            b.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
            NDArray x = m.randomNormal(new Shape(8, 1, 28, 28));
            NDArray out = b.forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
            assertThat(out.getShape()).isEqualTo(new Shape(8, 10));
        }
    }
}
