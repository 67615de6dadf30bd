package dev.goodput.trainer.model.torchscript;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Loads a user's TorchScript module ({@code forward(inputs) -> logits}) as a block the trainer trains like a built-in
 * model, with what libtorch and DJL get wrong for training by default put right:
 *
 * <ul>
 *   <li>libtorch loads a module in eval mode, while DJL's PtSymbolBlock starts out believing it is training and only
 *       switches mode when {@code forward}'s training flag changes; without {@code enableTrainingMode} the first
 *       training steps would run BatchNorm and dropout as in inference, silently;</li>
 *   <li>TorchScript's profiling graph executor specialises the graph on the runs it has seen; after training, an
 *       evaluation (DJL runs it in inference mode) then fails with "Inference tensors cannot be saved for
 *       backward". {@link #disableProfilingExecutor()} turns it off;</li>
 *   <li>the buffers, which DJL does not expose, are made reachable ({@link BufferAccessor}).</li>
 * </ul>
 */
public final class TorchScriptLoader {
    /** Read by PtSymbolBlock before every forward, which then sets libtorch's executor for the calling thread. */
    public static final String GRAPH_OPTIMIZER_PROPERTY = "ai.djl.pytorch.graph_optimizer";

    private TorchScriptLoader() {}

    /**
     * Turns TorchScript's profiling executor off. DJL's PtSymbolBlock reads {@value #GRAPH_OPTIMIZER_PROPERTY} at
     * every forward (the engine reads it at start only to log), so it is enough to set it before the first forward
     * of a user's module, whichever thread runs it; this also sets the calling thread's executor at once. Idempotent;
     * {@link #load} calls it.
     */
    public static void disableProfilingExecutor() {
        System.setProperty(GRAPH_OPTIMIZER_PROPERTY, "false");
        JniUtils.setGraphExecutorOptimize(false);
    }

    /**
     * Loads {@code file} onto {@code manager}'s device in training mode and checks that one example of shape
     * {@code example} (N=1, e.g. (1, 1, 28, 28)) gives {@code (1, classes)} logits. The check runs in eval mode
     * (dropout and batch statistics would be wrong on one example, and it must not move BatchNorm's running
     * statistics); the block's next training forward switches it back to train mode.
     *
     * @throws UnusableModelException when the file is missing, is not TorchScript, or its forward does not fit
     */
    public static TorchScriptModel load(Path file, NDManager manager, Shape example, int classes) {
        TorchScriptModel model = loadModule(file, manager);
        // A forward may change buffers even in eval mode (a module counting its calls); the check must leave none.
        var saved = model.buffers().read();
        checkForward(model.block(), manager, file, example, classes);
        model.buffers().write(saved);
        return model;
    }

    /**
     * Loads a model given as a folder of stages ({@code stage-0.pt}, {@code stage-1.pt}, ...; see {@link StagedModule})
     * onto {@code manager}'s device, each stage in training mode, and checks that one example of shape {@code example}
     * goes through them in order to {@code (1, classes)} logits (in eval mode, leaving every buffer as it was).
     *
     * @throws UnusableModelException when the folder has no stages, a gap in their numbers, a stage that is not
     *                                TorchScript, or stages that do not fit together or end in other logits
     */
    public static StagedModule loadStages(Path folder, NDManager manager, Shape example, int classes) {
        List<Path> files = StagedModule.stageFiles(folder);
        List<TorchScriptModel> stages = new ArrayList<>();
        for (Path f : files) stages.add(loadModule(f, manager));
        StagedModule module = new StagedModule(folder, stages, classes);
        var saved = module.buffers().read();
        checkStages(module, manager, files, example, classes);
        module.buffers().write(saved);
        return module;
    }

    /** One TorchScript file, in training mode, its buffers reachable; its forward not yet checked. */
    private static TorchScriptModel loadModule(Path file, NDManager manager) {
        disableProfilingExecutor();
        TorchScriptArchive archive = TorchScriptArchive.read(file);
        BufferAccessor.Injected injected = BufferAccessor.inject(archive);
        PtSymbolBlock block;
        try {
            // mapLocation: the tensors go to the manager's device, whatever device they were saved from.
            block = JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(injected.archive().bytes()),
                    true, false);
        } catch (EngineException e) {
            throw new UnusableModelException("libtorch cannot load the TorchScript model " + file + " (written by a"
                    + " PyTorch newer than 2.7.1, or with custom operators?): " + firstLine(e.getMessage()), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JniUtils.enableTrainingMode(block);
        return new TorchScriptModel(block, new ModuleBuffers(block, manager, injected.names()), file);
    }

    private static void checkStages(StagedModule module, NDManager manager, List<Path> files, Shape example,
                                    int classes) {
        Shape expected = new Shape(example.get(0), classes);
        try (NDManager scratch = manager.newSubManager()) {
            NDArray x = scratch.zeros(example);
            ParameterStore ps = new ParameterStore(scratch, false);
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                String what = i == 0 ? "a float32 input of shape " + example + " (the data's (N, C, H, W))"
                        : "the output of " + files.get(i - 1).getFileName() + ", of shape " + x.getShape();
                NDList out;
                try {
                    out = module.stage(i).forward(ps, new NDList(x), false);
                } catch (EngineException e) {
                    throw new UnusableModelException("stage " + file + " fails on " + what + ": "
                            + firstLine(e.getMessage()) + ". Each stage's forward must take what the stage before it"
                            + " returns (stage 0: the data's examples)", e);
                }
                if (out.size() != 1) {
                    throw new UnusableModelException("stage " + file + " returns " + out.size() + " tensors; a stage's"
                            + " forward must return one tensor, the next stage's input (the last stage: the logits)");
                }
                x = out.singletonOrThrow();
            }
            if (!x.getShape().equals(expected)) {
                throw new UnusableModelException("the last stage, " + files.get(files.size() - 1) + ", returns "
                        + x.getShape() + " for an input of shape " + example + "; the data has " + classes
                        + " classes, so it must return " + expected + ": one logit per class (change the last layer to "
                        + classes + " outputs, and flatten before it)");
            }
        }
    }

    private static void checkForward(PtSymbolBlock block, NDManager manager, Path file, Shape example, int classes) {
        Shape expected = new Shape(example.get(0), classes);
        try (NDManager scratch = manager.newSubManager()) {
            NDArray x = scratch.zeros(example);
            NDList out;
            try {
                out = block.forward(new ParameterStore(scratch, false), new NDList(x), false);
            } catch (EngineException e) {
                throw new UnusableModelException("the TorchScript model " + file + " fails on a float32 input of shape "
                        + example + " (the data's (N, C, H, W)): " + firstLine(e.getMessage())
                        + ". Its forward(inputs) must take the data's examples as they are", e);
            }
            if (out.size() != 1) {
                throw new UnusableModelException("the TorchScript model " + file + " returns " + out.size()
                        + " tensors; its forward(inputs) must return only the logits, of shape (N, " + classes + ")");
            }
            Shape got = out.singletonOrThrow().getShape();
            if (!got.equals(expected)) {
                throw new UnusableModelException("the TorchScript model " + file + " returns logits of shape " + got
                        + " for an input of shape " + example + "; the data has " + classes + " classes, so it must"
                        + " return " + expected + ": one logit per class (change its last layer to " + classes
                        + " outputs, and flatten before it)");
            }
        }
    }

    private static String firstLine(String message) {
        if (message == null) return "";
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
