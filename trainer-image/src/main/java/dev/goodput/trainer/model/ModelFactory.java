package dev.goodput.trainer.model;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.pooling.Pool;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.model.bert.BertClassifier;
import dev.goodput.trainer.model.mlp.MlpNetwork;
import dev.goodput.trainer.model.bert.LoraSettings;
import dev.goodput.trainer.model.bert.PretrainedWeights;
import dev.goodput.trainer.model.torchscript.ModuleAdapters;
import dev.goodput.trainer.model.torchscript.ModuleBuffers;
import dev.goodput.trainer.model.torchscript.StagedModule;
import dev.goodput.trainer.model.torchscript.TorchScriptLoader;
import dev.goodput.trainer.model.torchscript.TorchScriptModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Builds the network a ModelSpec names: the built-in image networks, sized by their width and layers, or a pretrained
 * BERT-family classifier ({@code model/bert}); {@link #create} also initialises it, loads pretrained weights and
 * freezes what {@code spec.model.trainable} leaves out, or loads a user's TorchScript module ({@code model/torchscript}).
 */
public final class ModelFactory {
    private ModelFactory() {}

    /**
     * The network ready to train: loaded (a user's TorchScript module) or built, frozen as spec.model says,
     * initialised for {@code train}'s examples, pretrained weights loaded.
     */
    public static LoadedModel create(ModelSpec spec, ExampleSet train, NDManager manager) {
        Shape one = new Shape(1, train.channels(), train.height(), train.width());
        if ("torchscript".equals(spec.architecture)) {
            Path file = Path.of(spec.torchscript);
            if (Files.isDirectory(file)) {
                StagedModule staged = TorchScriptLoader.loadStages(file, manager, one, train.classes());
                ModuleAdapters adapters = adaptOrFreeze(spec, staged, manager);
                // No weights file: a checkpoint holds every stage's parameters, frozen ones included, rather than
                // identifying the frozen ones by one file's hash (BaseWeights hashes a file, not a folder).
                return new LoadedModel(staged, staged.buffers(), null, adapters);
            }
            TorchScriptModel m = TorchScriptLoader.load(file, manager, one, train.classes());
            ModuleAdapters adapters = adaptOrFreeze(spec, m.block(), manager);
            return new LoadedModel(m.block(), m.buffers(), file, adapters);
        }
        Block block = build(spec, train.classes());
        // Before initialize, so frozen arrays are never made to require gradients.
        if (spec.trainable != null) TrainableParameters.freezeAllBut(block, spec.trainable);
        block.initialize(manager, DataType.FLOAT32, one);
        if (block instanceof BertClassifier bert) {
            Path folder = Path.of(spec.pretrained);
            PretrainedWeights.load(bert, folder);
            return new LoadedModel(block, ModuleBuffers.none(), folder.resolve(PretrainedWeights.FILE));
        }
        return new LoadedModel(block, ModuleBuffers.none(), null);
    }

    /** A module's LoRA adapters (freezing what trainable does not name), or spec.model.trainable alone. */
    private static ModuleAdapters adaptOrFreeze(ModelSpec spec, Block module, NDManager manager) {
        if (spec.lora != null) {
            ModelSpec.LoraSpec l = spec.lora;
            Pattern alsoTrains = spec.trainable == null ? null : TrainableParameters.checked(module, spec.trainable);
            return ModuleAdapters.attach(module, l.rankOrDefault(), l.alphaOrDefault(), l.targetsOrDefault(), alsoTrains,
                    manager);
        }
        if (spec.trainable != null) TrainableParameters.freezeAllBut(module, spec.trainable);
        return ModuleAdapters.none();
    }

    static LoraSettings lora(ModelSpec.LoraSpec lora) {
        return lora == null ? null : new LoraSettings(lora.rankOrDefault(), lora.alphaOrDefault(), lora.dropoutOrDefault("bert-classifier"),
                lora.targetsOrDefault());
    }

    public static Block build(ModelSpec spec, int classes) {
        return switch (spec.architecture) {
            case "mlp" -> MlpNetwork.build(spec.hiddenLayers != null ? spec.hiddenLayers
                    : spec.width != null ? List.of(spec.width, spec.width) : List.of(256, 128), dropout(spec), classes);
            case "cnn" -> cnn(spec.width == null ? 32 : spec.width, dropout(spec), classes);
            case "resnet20" -> ResNetBuilder.cifar(20, spec.width == null ? 16 : spec.width, classes);
            case "resnet18" -> ResNetBuilder.imagenet(18, spec.width == null ? 64 : spec.width, classes);
            case "resnet50" -> ResNetBuilder.imagenet(50, spec.width == null ? 64 : spec.width, classes);
            // Sized by the checkpoint's config.json; create() loads its weights.
            case "bert-classifier" -> BertClassifier.build(Path.of(spec.pretrained), classes, lora(spec.lora));
            default -> throw new IllegalArgumentException("spec.model.architecture: " + spec.architecture
                    + " is not a network the trainer builds from sizes alone");
        };
    }

    private static float dropout(ModelSpec spec) {
        return spec.dropout == null ? 0f : spec.dropout.floatValue();
    }

    /**
     * Two conv + BN + ReLU + max-pool stages, then a hidden dense layer: the classic Fashion-MNIST CNN. Each stage
     * pools before its ReLU: max and ReLU commute (ReLU is monotone), so outputs and gradients are bit for bit those of
     * ReLU then pool, and ReLU runs on a quarter of the values. Both are parameterless lambda blocks, so the parameter
     * names are those of the textbook order.
     */
    static Block cnn(int width, float dropout, int classes) {
        SequentialBlock net = new ChannelsLastSequential();
        for (int filters : new int[] {width, 2 * width}) {
            net.add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1))
                            .setFilters(filters).optBias(false).build())
                    .add(BatchNorm.builder().build())
                    .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                    .add(Activation.reluBlock());
        }
        net.add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(4L * width).build())
                .add(Activation.reluBlock());
        if (dropout > 0) net.add(Dropout.builder().optRate(dropout).build());
        return net.add(Linear.builder().setUnits(classes).build());
    }
}
