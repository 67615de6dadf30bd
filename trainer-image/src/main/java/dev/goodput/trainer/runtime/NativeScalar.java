package dev.goodput.trainer.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Products with a constant that autograd differentiates correctly.
 *
 * <p>DJL's {@code NDArray.mul(Number)} (and {@code div}, {@code pow}, {@code maximum} with a number) wraps the number
 * in a 0-d tensor over a Java direct buffer, runs the op and closes that tensor at once. Autograd keeps the 0-d tensor
 * to compute the product's gradient; libtorch does not own its memory, so once the GC frees the buffer, backward reads
 * whatever the memory holds by then: a gradient of -1.2e29 where 3 was due ({@code NativeScalarTest}). In training that
 * showed as a LoRA fine-tune that went NaN at a random step, or drifted, in 6 of 33 runs on a loaded 2-core machine
 * (none of 15 after; the attention scale and the adapter scaling are such products). Here libtorch makes the constant
 * ({@code torch.full}), so the tensor autograd keeps owns its memory. Sums and differences with a number are safe
 * (their backward needs no operand); a product outside autograd is too, as it reads the number before returning.
 */
public final class NativeScalar {
    private NativeScalar() {}

    /** {@code x * c}, differentiable, in x's type and on x's device. */
    public static NDArray multiply(NDArray x, float c) {
        try (NDArray constant = x.getManager().full(new Shape(), c, x.getDataType(), x.getDevice())) {
            return x.mul(constant);
        }
    }
}
