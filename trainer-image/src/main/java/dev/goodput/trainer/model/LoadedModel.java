package dev.goodput.trainer.model;

import ai.djl.nn.Block;
import dev.goodput.trainer.model.torchscript.ModuleAdapters;
import dev.goodput.trainer.model.torchscript.ModuleBuffers;
import java.nio.file.Path;

/**
 * A network ready to train, and what checkpoints need to know of it besides its parameters.
 *
 * @param buffers     a TorchScript module's buffers (BatchNorm statistics); none for the others
 * @param weightsFile the file its initial weights were read from (pretrained safetensors, the user's module); null for
 *                    a network built from sizes
 * @param adapters    a TorchScript module's LoRA adapters (none otherwise; a bert-classifier's are its own layers)
 */
public record LoadedModel(Block block, ModuleBuffers buffers, Path weightsFile, ModuleAdapters adapters) {
    public LoadedModel(Block block, ModuleBuffers buffers, Path weightsFile) {
        this(block, buffers, weightsFile, ModuleAdapters.none());
    }
}
