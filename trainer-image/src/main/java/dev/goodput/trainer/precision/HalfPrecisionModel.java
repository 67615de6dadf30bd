package dev.goodput.trainer.precision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.lang.reflect.Field;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns an fp32-initialised model into the fp16-mixed layout: convolution and dense weights and biases in fp16 (the
 * work), BatchNorm scale, shift and running statistics in fp32 (libtorch's batch norm takes fp16 input with fp32
 * parameters). The fp32 originals become the optimizer's master weights.
 */
public final class HalfPrecisionModel {
    private static final Field ARRAY;

    static {
        try {
            // DJL offers no way to swap a parameter's array once its shape is set, and NDArray.intern keeps the
            // old cached data type; replacing the field is the one exact way to hold an fp16 copy.
            ARRAY = Parameter.class.getDeclaredField("array");
            ARRAY.setAccessible(true);
        } catch (NoSuchFieldException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private HalfPrecisionModel() {}

    /** Converts in place; returns the fp32 masters by parameter name, for the optimizer. */
    public static Map<String, NDArray> convert(PairList<String, Parameter> parameters) {
        Map<String, NDArray> masters = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : parameters) {
            Parameter param = p.getValue();
            if (!isCompute(param)) continue;
            NDArray fp32 = param.getArray();
            NDArray half = fp32.toType(DataType.FLOAT16, true);
            half.setName(fp32.getName());
            half.setRequiresGradient(param.requiresGradient());
            fp32.setRequiresGradient(false);
            replace(param, half);
            masters.put(p.getKey(), fp32);
        }
        return masters;
    }

    static boolean isCompute(Parameter p) {
        return p.getType() == Parameter.Type.WEIGHT || p.getType() == Parameter.Type.BIAS;
    }

    static void replace(Parameter p, NDArray array) {
        try {
            ARRAY.set(p, array);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }
}
