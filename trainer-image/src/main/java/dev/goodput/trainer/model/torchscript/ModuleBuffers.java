package dev.goodput.trainer.model.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The buffers of a loaded TorchScript module (BatchNorm's running_mean, running_var, num_batches_tracked): the state
 * that is not a parameter, so {@code block.getParameters()} leaves it out, and that a checkpoint must still hold, or a
 * restored model normalises with its initial statistics. Read to host bytes and written back in place through the
 * method {@link BufferAccessor} adds to the module. Not thread-safe with a step: call it between steps, as
 * checkpoints do.
 */
public final class ModuleBuffers {
    private static final ModuleBuffers NONE = new ModuleBuffers(null, null, List.of());
    private static final NDIndex ALL = new NDIndex("...");
    private final PtSymbolBlock block;
    private final NDManager manager;
    private final List<String> names;

    ModuleBuffers(PtSymbolBlock block, NDManager manager, List<String> names) {
        this.block = block;
        this.manager = manager;
        this.names = List.copyOf(names);
    }

    /** No buffers: what built-in models have (DJL keeps their BatchNorm statistics as parameters). */
    public static ModuleBuffers none() {
        return NONE;
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
        if (names.isEmpty()) return out;
        try (NDManager scratch = manager.newSubManager()) {
            PtNDArray[] live = fetch(scratch);
            for (int i = 0; i < names.size(); i++) out.put(names.get(i), live[i].encode());
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
        if (names.isEmpty()) return;
        try (NDManager scratch = manager.newSubManager()) {
            PtNDArray[] live = fetch(scratch);
            for (int i = 0; i < names.size(); i++) {
                NDArray saved = scratch.decode(encoded.get(names.get(i)));
                if (!saved.getShape().equals(live[i].getShape()) || saved.getDataType() != live[i].getDataType()) {
                    throw new IllegalStateException("checkpoint buffer " + names.get(i) + " is " + saved.getDataType()
                            + saved.getShape() + ", model has " + live[i].getDataType() + live[i].getShape());
                }
                // A copy into the buffer's own storage. NDArray.set(Buffer) would not do: DJL points the tensor at a
                // direct buffer that only the handle keeps alive, and these handles are closed below, so the
                // module would be left reading freed memory.
                live[i].set(ALL, saved);
            }
        }
    }

    /** Handles to the buffers themselves (sharing their storage), owned by {@code scratch}. */
    private PtNDArray[] fetch(NDManager scratch) {
        try (IValue list = IValueUtils.runMethod(block, BufferAccessor.METHOD)) {
            PtNDArray[] arrays = list.toTensorArray((PtNDManager) scratch);
            if (arrays.length != names.size()) {
                throw new IllegalStateException(BufferAccessor.METHOD + " returned " + arrays.length + " buffers, expected "
                        + names.size());
            }
            return arrays;
        }
    }
}
