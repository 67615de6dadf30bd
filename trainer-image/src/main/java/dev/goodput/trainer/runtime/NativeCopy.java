package dev.goodput.trainer.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * Copies values into an array's own libtorch storage: how the trainer writes loaded weights, restored checkpoints,
 * fp16 working copies and replica broadcasts into live parameters.
 *
 * <p>DJL's {@code NDArray.set(Buffer)}, and {@code copyTo}, which calls it, do not copy into the tensor: they point
 * the tensor at a direct buffer that Java allocated and that only that one Java handle keeps alive. A parameter
 * written that way leaves libtorch's allocator for Java's memory, a view taken before no longer sees it
 * ({@code NativeCopyTest}), and once that handle is closed while libtorch still holds the tensor, the GC frees memory
 * libtorch goes on reading (the same hazard as {@link NativeScalar}'s). A copy in place has none of this and makes no
 * round trip through the Java heap.
 */
public final class NativeCopy {
    private static final NDIndex ALL = new NDIndex("...");

    private NativeCopy() {}

    /**
     * {@code target}'s values := {@code source}'s (same shape and type, any device), in target's storage, outside
     * autograd.
     */
    public static void into(NDArray target, NDArray source) {
        if (!target.getShape().equals(source.getShape()) || target.getDataType() != source.getDataType()) {
            throw new IllegalArgumentException("cannot copy " + source.getDataType() + source.getShape() + " into "
                    + target.getDataType() + target.getShape());
        }
        if (source.getDevice().equals(target.getDevice())) {
            target.set(ALL, source);
        } else {
            try (NDArray moved = source.toDevice(target.getDevice(), true)) {
                target.set(ALL, moved);
            }
        }
    }
}
