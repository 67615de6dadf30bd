package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.goodput.trainer.runtime.NativeCopy;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Copies a Hugging Face BERT checkpoint ({@code model.safetensors}) into an initialised {@link BertClassifier}, by
 * name, into the parameters' existing arrays (so gradient handles and optimizer state keyed by them stay valid).
 * Every pretrained parameter must be in the file with its shape; the file may hold only those, plus what this
 * classifier deliberately has no use for: BERT's pooler (it pools by mean instead), a pretraining head ({@code cls.})
 * and the {@code position_ids} buffer; a head ({@code classifier.}) is loaded when it fits, as in a folder the trainer
 * exported. A {@code bert.} prefix, as task models save the encoder, is dropped.
 */
public final class PretrainedWeights {
    public static final String FILE = "model.safetensors";
    private static final String HEAD = "classifier.";
    private static final List<String> UNUSED = List.of("pooler.", "cls.", "embeddings.position_ids");

    private PretrainedWeights() {}

    /** Loads {@code folder/model.safetensors} into every parameter of {@code block} but the head and adapters. */
    public static void load(BertClassifier block, Path folder) {
        Path file = folder.resolve(FILE);
        NDManager owner = managerOf(block);
        try (NDManager scratch = owner.newSubManager(); InputStream in = Files.newInputStream(file)) {
            NDList list = NDList.decode(scratch, in);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (NDArray a : list) {
                String name = a.getName();
                tensors.put(name.startsWith("bert.") ? name.substring("bert.".length()) : name, a);
            }
            List<Pair<String, Parameter>> pretrained = new ArrayList<>();
            for (Pair<String, Parameter> p : block.getParameters()) {
                if (!BertClassifier.isNew(p.getKey()) || fittingHead(p, tensors)) pretrained.add(p);
            }
            // A head in the file that does not fit (another number of classes) is left for the new one.
            copy(pretrained, tensors, name -> UNUSED.stream().anyMatch(name::startsWith) || name.startsWith(HEAD),
                    file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read pretrained weights " + file, e);
        }
    }

    /**
     * Copies {@code tensors} into all of {@code block}'s parameters by name; the names must match exactly (e.g. the
     * parameters from {@link BertClassifier#mergedParameters} into a classifier without adapters).
     */
    public static void assign(Block block, Map<String, NDArray> tensors) {
        copy(block.getParameters(), tensors, name -> false, "the given tensors");
    }

    private static void copy(Iterable<Pair<String, Parameter>> targets, Map<String, NDArray> tensors,
                             Predicate<String> ignorable, String source) {
        List<String> missing = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        Map<String, NDArray> unexpected = new LinkedHashMap<>(tensors);
        List<Pair<NDArray, NDArray>> copies = new ArrayList<>();
        for (Pair<String, Parameter> p : targets) {
            NDArray live = p.getValue().getArray();
            if (live == null) throw new IllegalStateException("initialize the block before loading weights into it");
            NDArray given = unexpected.remove(p.getKey());
            if (given == null) {
                missing.add(p.getKey());
            } else if (!given.getShape().equals(live.getShape()) || !given.getDataType().isFloating()) {
                misshaped.add(p.getKey() + " is " + given.getDataType() + given.getShape() + ", the model's "
                        + live.getDataType() + live.getShape());
            } else {
                copies.add(new Pair<>(given, live));
            }
        }
        unexpected.keySet().removeIf(ignorable);
        if (!missing.isEmpty() || !misshaped.isEmpty() || !unexpected.isEmpty()) {
            StringBuilder why = new StringBuilder("weights in " + source + " do not fit the model:");
            if (!missing.isEmpty()) why.append("\n  missing: ").append(missing);
            if (!misshaped.isEmpty()) why.append("\n  wrong shape or type: ").append(misshaped);
            if (!unexpected.isEmpty()) why.append("\n  unexpected: ").append(unexpected.keySet());
            throw new IllegalArgumentException(why.toString());
        }
        // Only once everything fits, so a refused file leaves the model as it was.
        for (Pair<NDArray, NDArray> c : copies) {
            NDArray given = c.getKey();
            NDArray live = c.getValue();
            NDArray converted = given.getDataType() == live.getDataType() ? given : given.toType(live.getDataType(), true);
            NativeCopy.into(live, converted);
        }
    }

    /**
     * A head in the file of the same shape, as a folder this trainer exported holds (BertModelWriter): loaded, so a
     * further fine-tune continues from the trained classifier rather than a new one.
     */
    private static boolean fittingHead(Pair<String, Parameter> p, Map<String, NDArray> tensors) {
        NDArray saved = tensors.get(p.getKey());
        return p.getKey().startsWith(HEAD) && saved != null && saved.getShape().equals(p.getValue().getArray().getShape());
    }

    private static NDManager managerOf(Block block) {
        for (Parameter p : block.getParameters().values()) {
            if (p.getArray() == null) break;
            return p.getArray().getManager();
        }
        throw new IllegalStateException("initialize the block before loading weights into it");
    }
}
