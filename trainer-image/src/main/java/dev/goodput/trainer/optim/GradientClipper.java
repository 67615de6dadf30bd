package dev.goodput.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Global-norm clipping as torch.nn.utils.clip_grad_norm_: one norm over all gradients, one factor for all. DJL's
 * clipGrad clamps each value, which changes the gradient's direction.
 */
public final class GradientClipper {
    private GradientClipper() {}

    /** The L2 norm of all gradients together, each first multiplied by {@code scale}. */
    public static double globalNorm(List<TrainableParameter> params, float scale) {
        NDArray total = null;
        for (TrainableParameter p : params) {
            // In fp32 even for fp16 gradients: a sum of squares overflows fp16's range long before the norm does.
            NDArray sq = p.gradient().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).square().sum();
            total = total == null ? sq : total.addi(sq);
        }
        return total == null ? 0 : Math.sqrt(total.getFloat()) * Math.abs(scale);
    }

    /** The factor to multiply gradients by so their global norm is at most {@code maxNorm}. */
    public static float factor(double norm, double maxNorm) {
        return norm > maxNorm ? (float) (maxNorm / (norm + 1e-6)) : 1f;
    }
}
