package dev.goodput.trainer.model.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.ndarray.NDScope;
import dev.goodput.trainer.runtime.NativeCopy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The buffers of a loaded TorchScript module (BatchNorm's running_mean, running_var, num_batches_tracked): the state
 * that is not a parameter, so {@code block.getParameters()} leaves it out, and that a checkpoint must still hold, or a
 * restored model normalises with its initial statistics. Read to host bytes and written back in place through the
 * method {@link BufferAccessor} adds to the module. Not thread-safe with a step: call it between steps, as
 * checkpoints do.
 *
 * <p>The buffers of a model given as stages are those of every stage, each name prefixed with its stage's
 * ({@link #concat}).
 */
public final class ModuleBuffers {
    private static final ModuleBuffers NONE = new ModuleBuffers(List.of());

    /** One module's buffers, named {@code prefix + name}. */
    private record Part(String prefix, PtSymbolBlock block, NDManager manager, List<String> names) {}

    private final List<Part> parts;
    private final List<String> names;

    ModuleBuffers(PtSymbolBlock block, NDManager manager, List<String> names) {
        this(List.of(new Part("", block, manager, List.copyOf(names))));
    }

    private ModuleBuffers(List<Part> parts) {
        this.parts = List.copyOf(parts);
        List<String> all = new ArrayList<>();
        for (Part p : parts) for (String n : p.names()) all.add(p.prefix() + n);
        this.names = List.copyOf(all);
    }

    /** No buffers: what built-in models have (DJL keeps their BatchNorm statistics as parameters). */
    public static ModuleBuffers none() {
        return NONE;
    }

    /** The buffers of several modules as one set, those of {@code modules.get(i)} named {@code prefixes.get(i) + name}. */
    public static ModuleBuffers concat(List<String> prefixes, List<ModuleBuffers> modules) {
        List<Part> parts = new ArrayList<>();
        for (int i = 0; i < modules.size(); i++) {
            for (Part p : modules.get(i).parts) {
                if (!p.names().isEmpty()) parts.add(new Part(prefixes.get(i) + p.prefix(), p.block(), p.manager(), p.names()));
            }
        }
        return new ModuleBuffers(parts);
    }

    /** The buffers' dotted names, as PyTorch's named_buffers() gives them, e.g. {@code bn1.running_mean}. */
    public List<String> names() {
        return names;
    }

    public boolean isEmpty() {
        return names.isEmpty();
    }

    /** Every buffer copied to host memory as {@link NDArray#encode()} bytes, by name, in {@link #names()} order. */
    public Map<String, byte[]> read() {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Part part : parts) {
            if (part.names().isEmpty()) continue;
            try (NDManager scratch = part.manager().newSubManager()) {
                PtNDArray[] live = fetch(part, scratch);
                for (int i = 0; i < part.names().size(); i++) out.put(part.prefix() + part.names().get(i), live[i].encode());
            }
        }
        return out;
    }

    /**
     * Writes buffers read by {@link #read()} (from this module or one of the same architecture) into the live module,
     * in place.
     *
     * @throws IllegalStateException when the names, a shape or a data type differ from the module's
     */
    public void write(Map<String, byte[]> encoded) {
        if (!encoded.keySet().equals(new java.util.LinkedHashSet<>(names))) {
            throw new IllegalStateException("checkpoint buffers do not match the model (was the model file changed?):"
                    + " checkpoint has " + encoded.keySet() + ", model has " + names);
        }
        for (Part part : parts) {
            if (part.names().isEmpty()) continue;
            try (NDManager scratch = part.manager().newSubManager()) {
                PtNDArray[] live = fetch(part, scratch);
                for (int i = 0; i < part.names().size(); i++) {
                    String name = part.prefix() + part.names().get(i);
                    NDArray saved = scratch.decode(encoded.get(name));
                    if (!saved.getShape().equals(live[i].getShape()) || saved.getDataType() != live[i].getDataType()) {
                        throw new IllegalStateException("checkpoint buffer " + name + " is " + saved.getDataType()
                                + saved.getShape() + ", model has " + live[i].getDataType() + live[i].getShape());
                    }
                    // Into the buffer's own storage (NativeCopy says why not NDArray.set(Buffer)): these handles are
                    // closed below while the module keeps the tensors.
                    NativeCopy.into(live[i], saved);
                }
            }
        }
    }

    /**
     * A copy of every buffer, on the module's device, that {@link Held#restore()} writes back in place: to run a
     * module again from the state it was in (recomputation). Close it when done; it is not closed by an enclosing
     * NDScope.
     */
    public Held hold() {
        return new Held();
    }

    /** Device copies of the buffers, taken when made. */
    public final class Held implements AutoCloseable {
        private final List<NDManager> owners = new ArrayList<>();
        private final List<NDArray[]> copies = new ArrayList<>();

        private Held() {
            for (Part part : parts) {
                NDManager owner = part.manager().newSubManager();
                owners.add(owner);
                NDArray[] copy = new NDArray[part.names().size()];
                if (copy.length > 0) {
                    try (NDManager scratch = part.manager().newSubManager()) {
                        PtNDArray[] live = fetch(part, scratch);
                        for (int i = 0; i < copy.length; i++) {
                            copy[i] = live[i].duplicate();
                            copy[i].attach(owner);
                            NDScope.unregister(copy[i]);
                        }
                    }
                }
                copies.add(copy);
            }
        }

        /** Writes the copies back into the live buffers, in place. */
        public void restore() {
            for (int p = 0; p < parts.size(); p++) {
                Part part = parts.get(p);
                NDArray[] copy = copies.get(p);
                if (copy.length == 0) continue;
                try (NDManager scratch = part.manager().newSubManager()) {
                    PtNDArray[] live = fetch(part, scratch);
                    for (int i = 0; i < copy.length; i++) NativeCopy.into(live[i], copy[i]);
                }
            }
        }

        @Override
        public void close() {
            for (NDManager owner : owners) owner.close();
        }
    }

    /** Handles to a module's buffers themselves (sharing their storage), owned by {@code scratch}. */
    private static PtNDArray[] fetch(Part part, NDManager scratch) {
        try (IValue list = IValueUtils.runMethod(part.block(), BufferAccessor.METHOD)) {
            PtNDArray[] arrays = list.toTensorArray((PtNDManager) scratch);
            if (arrays.length != part.names().size()) {
                throw new IllegalStateException(BufferAccessor.METHOD + " returned " + arrays.length + " buffers, expected "
                        + part.names().size());
            }
            return arrays;
        }
    }
}
