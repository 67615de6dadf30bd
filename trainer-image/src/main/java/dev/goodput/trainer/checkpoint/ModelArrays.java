package dev.goodput.trainer.checkpoint;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.model.torchscript.ModuleAdapters;
import dev.goodput.trainer.model.torchscript.ModuleBuffers;
import java.nio.file.Path;

/**
 * The model's arrays a checkpoint holds. Every parameter and a TorchScript module's buffers; but when the frozen
 * parameters were read from a file (pretrained weights under LoRA or {@code trainable}, a user's module with frozen
 * layers), only the trainable ones: the frozen ones are that file's, which {@link BaseWeights} identifies by hash, so
 * a LoRA checkpoint is the adapters and the head (hundreds of KB) instead of the whole encoder (90 MB for MiniLM).
 *
 * <p>A TorchScript module's LoRA adapters ({@link ModuleAdapters}) are saved after the module's parameters; the
 * weights they adapt are not (they are the file's plus the adapters' product, which a restore merges again).
 *
 * @param parameters the parameters saved and restored, by name
 * @param buffers    the module's buffers (none for a model the trainer builds)
 * @param base       the file the frozen parameters come from, or null when every parameter is saved
 * @param adapters   a TorchScript module's adapters (none otherwise)
 */
public record ModelArrays(PairList<String, Parameter> parameters, ModuleBuffers buffers, Path base, ModuleAdapters adapters) {

    /** @param weightsFile the file the model's initial weights were read from; null for a model built from sizes */
    public static ModelArrays of(Block block, ModuleBuffers buffers, Path weightsFile) {
        return of(block, buffers, weightsFile, ModuleAdapters.none());
    }

    /** As {@link #of(Block, ModuleBuffers, Path)}, for a module with adapters. */
    public static ModelArrays of(Block block, ModuleBuffers buffers, Path weightsFile, ModuleAdapters adapters) {
        PairList<String, Parameter> all = block.getParameters();
        PairList<String, Parameter> trainable = new PairList<>();
        for (Pair<String, Parameter> p : all) {
            if (p.getValue().requiresGradient() && !adapters.adapts(p.getKey())) trainable.add(p);
        }
        boolean frozenFromFile = weightsFile != null && trainable.size() < all.size();
        PairList<String, Parameter> saved = new PairList<>();
        saved.addAll(frozenFromFile ? trainable : all);
        saved.addAll(adapters.parameters());
        return new ModelArrays(saved, buffers, frozenFromFile ? weightsFile : null, adapters);
    }
}
