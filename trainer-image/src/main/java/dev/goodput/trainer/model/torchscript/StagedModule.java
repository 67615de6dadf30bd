package dev.goodput.trainer.model.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.recompute.DropoutSeeds;
import dev.goodput.trainer.recompute.RecomputedGradients;
import dev.goodput.trainer.recompute.Segmented;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A user's TorchScript model given as a folder of stages, {@code stage-0.pt} to {@code stage-K.pt}, run in sequence
 * as one block: stage 0 takes the examples, stage i + 1 what stage i returns, the last returns the logits. Each stage
 * is its own TorchScript module, loaded as the single-file form is ({@link TorchScriptLoader#loadStages}), so that
 * {@link RecomputedGradients} can run one stage at a time with autograd on ({@code IValueUtils.runMethod}, the only
 * way to call a module's other methods, never records autograd, so the segments of gradient checkpointing cannot
 * be methods of one module).
 *
 * <p>Parameters and buffers are named {@code stage-i.<name in the stage>}, e.g. {@code stage-2.fc.weight}: distinct
 * across stages for checkpoints, {@code spec.model.trainable} and {@code /progress}. In training mode each stage's
 * dropout is seeded per (forward, stage) ({@link DropoutSeeds}), in this block's forward and in a recomputation alike,
 * so that the recomputed gradients are the plain step's bit for bit.
 */
public final class StagedModule extends AbstractBlock implements Segmented {
    /** The name of stage {@code i}'s file; without ".pt", the prefix of its parameters' and buffers' names. */
    public static String stageName(int i) {
        return "stage-" + i;
    }

    private static final Pattern STAGE = Pattern.compile("stage-(0|[1-9][0-9]{0,8})\\.pt");

    private final Path folder;
    private final List<PtSymbolBlock> stages = new ArrayList<>();
    private final List<ModuleBuffers> stageBuffers = new ArrayList<>();
    private final ModuleBuffers buffers;
    private final int classes;

    StagedModule(Path folder, List<TorchScriptModel> loaded, int classes) {
        this.folder = folder;
        this.classes = classes;
        List<String> prefixes = new ArrayList<>();
        for (int i = 0; i < loaded.size(); i++) {
            stages.add(loaded.get(i).block());
            stageBuffers.add(loaded.get(i).buffers());
            prefixes.add(stageName(i) + ".");
            children.add(stageName(i), loaded.get(i).block());
        }
        buffers = ModuleBuffers.concat(prefixes, stageBuffers);
    }

    /**
     * The stage files of {@code folder} in order.
     *
     * @throws UnusableModelException when it is not a folder, holds no stage-0.pt, or its numbers have a gap
     */
    public static List<Path> stageFiles(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new UnusableModelException("the TorchScript stages' folder " + folder + " does not exist");
        }
        TreeMap<Integer, Path> found = new TreeMap<>();
        List<String> odd = new ArrayList<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path p : s.toList()) {
                String name = p.getFileName().toString();
                Matcher m = STAGE.matcher(name);
                if (m.matches()) {
                    found.put(Integer.parseInt(m.group(1)), p);
                } else if (name.startsWith("stage-") && name.endsWith(".pt")) {
                    odd.add(name);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + folder, e);
        }
        if (!odd.isEmpty()) {
            throw new UnusableModelException("the TorchScript stages' folder " + folder + " holds " + String.join(", ", odd)
                    + ": stages must be named stage-0.pt, stage-1.pt, ... (decimal, no leading zeros)");
        }
        if (found.isEmpty()) {
            throw new UnusableModelException("spec.model.torchscript: " + folder + " is a folder with no stage-0.pt: give"
                    + " the file torch.jit.save wrote, or a folder of stages stage-0.pt, stage-1.pt, ... (each a"
                    + " torch.jit.script of one part of the model, run in order; see examples/torchscript/export_model.py"
                    + " --stages)");
        }
        List<Path> files = new ArrayList<>();
        for (int i = 0; i <= found.lastKey(); i++) {
            Path p = found.get(i);
            if (p == null) {
                throw new UnusableModelException("the TorchScript stages' folder " + folder + " has " + found.lastKey()
                        + " as its last stage but no " + stageName(i) + ".pt: number the stages from 0 without gaps"
                        + " (rename the files after " + stageName(i) + " down by one, or add the missing stage)");
            }
            files.add(p);
        }
        return files;
    }

    public Path folder() {
        return folder;
    }

    public int stageCount() {
        return stages.size();
    }

    public PtSymbolBlock stage(int i) {
        return stages.get(i);
    }

    /** Every stage's buffers, named {@code stage-i.<name>}: what checkpoints hold besides the parameters. */
    public ModuleBuffers buffers() {
        return buffers;
    }

    @Override
    public ParameterList getParameters() {
        ParameterList all = new ParameterList();
        for (int i = 0; i < stages.size(); i++) {
            for (Pair<String, Parameter> p : stages.get(i).getParameters()) {
                all.add(stageName(i) + "." + p.getKey(), p.getValue());
            }
        }
        return all;
    }

    /** Loaded with its weights: there is nothing to initialise. */
    @Override
    public boolean isInitialized() {
        return true;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        DropoutSeeds seeds = training ? DropoutSeeds.draw(x.getManager()) : null;
        for (int i = 0; i < stages.size(); i++) {
            if (training) seeds.enter(i);
            x = stages.get(i).forward(ps, new NDList(x), training).singletonOrThrow();
        }
        if (training) seeds.leave();
        return new NDList(x);
    }

    /**
     * The stages as segments. A stage's buffers are copied before its first run and written back before its replay:
     * the replay starts from the state the first run saw, and leaves BatchNorm's running statistics as one training
     * forward moves them, not twice.
     */
    @Override
    public Segmented.Pass pass(ParameterStore ps, NDArray x) {
        DropoutSeeds seeds = DropoutSeeds.draw(x.getManager());
        ModuleBuffers.Held[] held = new ModuleBuffers.Held[stages.size()];
        return new Segmented.Pass() {
            @Override
            public int segments() {
                return stages.size();
            }

            @Override
            public NDArray input() {
                return x;
            }

            @Override
            public NDArray run(int segment, NDArray input) {
                if (held[segment] == null && !stageBuffers.get(segment).isEmpty()) {
                    held[segment] = stageBuffers.get(segment).hold();
                }
                return forward(segment, input);
            }

            @Override
            public NDArray replay(int segment, NDArray input) {
                if (held[segment] != null) {
                    held[segment].restore();
                    held[segment].close();
                    held[segment] = null;
                }
                return forward(segment, input);
            }

            private NDArray forward(int segment, NDArray input) {
                seeds.enter(segment);
                return stages.get(segment).forward(ps, new NDList(input), true).singletonOrThrow();
            }

            @Override
            public boolean trains(int segment) {
                for (Parameter p : stages.get(segment).getParameters().values()) {
                    if (p.requiresGradient()) return true;
                }
                return false;
            }

            @Override
            public void close() {
                seeds.leave();
                for (int i = 0; i < held.length; i++) {
                    if (held[i] != null) held[i].close();
                    held[i] = null;
                }
            }
        };
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), classes)};
    }
}
