package dev.goodput.trainer.model;

import ai.djl.nn.Block;
import dev.goodput.trainer.model.torchscript.ModuleBuffers;
import java.nio.file.Path;

/**
 * A network ready to train, and what checkpoints need to know of it besides its parameters.
 *
 * @param buffers     a TorchScript module's buffers (BatchNorm statistics); none for the others
 * @param weightsFile the file its initial weights were read from (pretrained safetensors, the user's module); null for
 *                    a network built from sizes
 */
public record LoadedModel(Block block, ModuleBuffers buffers, Path weightsFile) {}
