package dev.goodput.trainer.tune;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.initializer.Initializer;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.api.spec.TrainingSpec;
import dev.goodput.trainer.model.ModelFactory;
import dev.goodput.trainer.model.TrainableParameters;
import dev.goodput.trainer.model.torchscript.TorchScriptLoader;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What a model needs in memory before it sees a single example: its parameters (BatchNorm's running statistics
 * included), their gradients, and the optimizer's state (AdamW two moments, SGD with momentum one buffer). A lower
 * bound of any step's memory, so a job whose footprint exceeds its memory budget cannot run at any batch size and is
 * refused by pre-flight instead of being killed by the kernel (exit 137, retried) after tuning.
 *
 * <p>The parameters are counted on the real network ({@link ModelFactory#build}, the same builder the run uses), by
 * initializing it on its input shape with an initializer that records each parameter's shape and allocates one
 * element: a ResNet-50 at width 1024 (6.5 billion parameters) is counted without allocating 26 GB.
 *
 * @param parameters  elements of every parameter
 * @param trainable   elements of the parameters that train (frozen ones have no gradient and no optimizer state)
 * @param stateCopies optimizer state per parameter: 2 for AdamW, 1 for SGD with momentum, 0 for plain SGD
 */
public record ModelFootprint(long parameters, long trainable, int stateCopies) {

    /** Weights, and for the trainable ones gradients and optimizer state, fp32. */
    public long bytes() {
        return parameters * Float.BYTES + trainable * Float.BYTES * (1L + stateCopies);
    }

    public static ModelFootprint of(ModelSpec model, Shape example, int classes, TrainingSpec.OptimizerSpec optimizer) {
        long[] counted = {0};
        Initializer counting = (manager, shape, dataType) -> {
            counted[0] += shape.size();
            return manager.zeros(new Shape(1), dataType);
        };
        long trainable = 0;
        try (NDManager manager = NDManager.newBaseManager()) {
            if ("torchscript".equals(model.architecture)) {
                // A user's module has its sizes in its file: loaded (which checks its outputs), then counted.
                Path path = Path.of(model.torchscript);
                Shape one = new Shape(1).addAll(example);
                Block module = java.nio.file.Files.isDirectory(path)
                        ? TorchScriptLoader.loadStages(path, manager, one, classes)
                        : TorchScriptLoader.load(path, manager, one, classes).block();
                if (model.trainable != null) TrainableParameters.freezeAllBut(module, model.trainable);
                for (var p : module.getParameters()) {
                    counted[0] += p.getValue().getArray().size();
                    if (p.getValue().requiresGradient()) trainable += p.getValue().getArray().size();
                }
                return new ModelFootprint(counted[0], trainable, stateCopies(optimizer));
            }
            Block block = ModelFactory.build(model, classes);
            if (model.trainable != null) TrainableParameters.freezeAllBut(block, model.trainable);
            block.setInitializer(counting, parameter -> true);
            block.initialize(manager, DataType.FLOAT32, new Shape(1).addAll(example));
            for (var p : block.getParameters()) {
                if (p.getValue().requiresGradient()) trainable += p.getValue().getShape().size();
            }
        }
        return new ModelFootprint(counted[0], trainable, stateCopies(optimizer));
    }

    static int stateCopies(TrainingSpec.OptimizerSpec optimizer) {
        if (optimizer == null || optimizer.name == null || "adamw".equals(optimizer.name)) {
            return 2;
        }
        return optimizer.momentum != null && optimizer.momentum > 0 ? 1 : 0;
    }

    /**
     * Pre-flight: refuses (IllegalArgumentException, exit 78) a model that cannot fit {@code budget}, naming what to
     * change.
     *
     * @param budgetSource where the budget comes from, as the user would find it ({@code spec.resources.memory}, ...)
     */
    public void refuseBeyond(ModelSpec model, long budget, String budgetSource) {
        if (budget <= 0 || bytes() <= budget) {
            return;
        }
        String width = model.width == null ? "" : " at width " + model.width;
        throw new IllegalArgumentException(String.format(Locale.ROOT,
                "spec.model: %s%s has %,d parameters; their weights, gradients and optimizer state alone need %s, more"
                        + " than the memory budget of %s (%s), before any batch. Lower spec.model.width%s, choose a"
                        + " smaller spec.model.architecture, or raise %s",
                model.architecture, width, parameters, human(bytes()), human(budget), budgetSource,
                model.hiddenLayers != null ? " or spec.model.hiddenLayers" : "",
                budgetSource.startsWith("spec.") ? budgetSource : "spec.resources.memory"));
    }

    static String human(long bytes) {
        return bytes >= 1L << 30 ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%d MiB", bytes >> 20);
    }
}
