package dev.goodput.trainer.tune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.model.ModelFactory;
import dev.goodput.trainer.optim.AdamW;
import dev.goodput.trainer.optim.Optimizer;

/**
 * A probe: a throwaway copy of the model runs {@code steps} full training steps (forward, backward, optimizer) at the
 * probed size on the device of {@code parent}, and the meter's peak during them is the measurement: on CPU the
 * process's resident set (libtorch's native allocations included, which is what a container's memory limit counts),
 * on a GPU the device's used memory. An allocator's out-of-memory error (CUDA) makes the probe a failure.
 */
public final class MemoryProbe implements BatchSizeTuner.ProbeRunner {
    private final NDManager parent;
    private final ModelSpec model;
    private final Shape example;
    private final int classes;
    private final int steps;
    private final MemoryMeter meter;

    public MemoryProbe(NDManager parent, ModelSpec model, Shape example, int classes, int steps, MemoryMeter meter) {
        this.meter = meter;
        this.parent = parent;
        this.model = model;
        this.example = example;
        this.classes = classes;
        this.steps = steps;
    }

    @Override
    public long baselineBytes() {
        return meter.current();
    }

    @Override
    public BatchSizeTuner.Probe run(int micro) {
        meter.resetPeak();
        try (NDManager m = parent.newSubManager()) {
            Block block = ModelFactory.build(model, classes);
            Shape in = new Shape(micro, example.get(0), example.get(1), example.get(2));
            block.initialize(m, DataType.FLOAT32, new Shape(1, example.get(0), example.get(1), example.get(2)));
            GradientAccumulator acc = new GradientAccumulator(block, new ParameterStore(m, false));
            Optimizer opt = new AdamW(m, 0.9, 0.999, 1e-8, 0);
            for (int i = 0; i < steps; i++) {
                try (NDScope scope = new NDScope()) {
                    NDArray x = m.randomNormal(in);
                    NDArray y = m.randomInteger(0, classes, new Shape(micro), DataType.INT64);
                    acc.forwardBackward(x, y);
                    opt.step(acc.gradients(), 1e-3, 1f);
                    acc.zeroGradients();
                }
            }
            long peak = meter.peak();
            return new BatchSizeTuner.Probe(micro, true, peak, false, "peak " + BatchSizeTuner.mib(peak));
        } catch (RuntimeException e) {
            if (OutOfMemoryClassifier.isOutOfMemory(e)) {
                return new BatchSizeTuner.Probe(micro, false, meter.peak(), false, "out of memory: " + firstLine(e.getMessage()));
            }
            throw e;
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
