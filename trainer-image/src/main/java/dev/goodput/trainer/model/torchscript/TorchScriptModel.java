package dev.goodput.trainer.model.torchscript;

import ai.djl.pytorch.engine.PtSymbolBlock;
import java.nio.file.Path;

/**
 * A user's TorchScript module loaded for training: the block the trainer runs ({@code forward(ps, x, training)}, its
 * parameters from {@code getParameters()}) and its buffers, which checkpoints hold beside the parameters. The block
 * is attached to the manager it was loaded with and closes with it.
 */
public record TorchScriptModel(PtSymbolBlock block, ModuleBuffers buffers, Path source) {}
