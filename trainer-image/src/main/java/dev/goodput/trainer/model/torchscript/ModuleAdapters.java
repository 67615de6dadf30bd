package dev.goodput.trainer.model.torchscript;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.runtime.NativeCopy;
import dev.goodput.trainer.runtime.NativeScalar;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * LoRA adapters on a TorchScript module's linear layers, kept outside the module: the module's forward is the user's
 * and cannot grow a second path, so each adapted weight is reparametrised instead, W = W0 + (alpha / rank) B A with
 * W0 the weight as loaded (a frozen copy), A (rank, in) and B (out, rank) the adapters. Before every forward W holds
 * that sum ({@link #merge}, after each update and after a restore); the module's backward gives dL/dW, and since W
 * depends on A and B only through s B A, their gradients are that product's backward with dL/dW
 * ({@link #backpropagate}): dL/dA = s Bᵀ dL/dW, dL/dB = s dL/dW Aᵀ. W itself is never updated by the optimizer.
 *
 * <p>This is exactly LoRA without adapter dropout, which needs the adapter inside the forward pass (the CRD requires
 * {@code dropout: 0} for a torchscript module). It costs one copy of each adapted weight (W0) and, per step, one
 * (out, rank) x (rank, in) product for the merge and two for the gradients. The exported module holds the merged
 * weights.
 */
public final class ModuleAdapters {
    private static final ModuleAdapters NONE = new ModuleAdapters(List.of(), 1f);
    private static final String WEIGHT = ".weight";

    /** One adapted weight: the module's parameter, its frozen base values and the two adapters. */
    private record Adapter(String module, Parameter weight, NDArray base, Parameter a, Parameter b) {}

    private final List<Adapter> adapters;
    private final float scaling;

    private ModuleAdapters(List<Adapter> adapters, float scaling) {
        this.adapters = adapters;
        this.scaling = scaling;
    }

    public static ModuleAdapters none() {
        return NONE;
    }

    /**
     * Adds adapters of {@code rank} to every 2-D {@code .weight} parameter whose module name is a target or ends with
     * "." + a target ({@code fc} adapts {@code fc.weight} and {@code stage-1.fc.weight}). Every other parameter of the
     * block is frozen unless {@code trainable} (may be null) finds its name; the adapted weights keep requiring
     * gradients, which is how their gradient reaches the adapters. A starts uniform in +-1/sqrt(in) from libtorch's
     * generator, B at zero, so the module starts as loaded.
     */
    public static ModuleAdapters attach(Block block, int rank, double alpha, List<String> targets, Pattern trainable,
                                        NDManager manager) {
        List<Adapter> adapters = new ArrayList<>();
        Set<String> unmatched = new LinkedHashSet<>(targets);
        List<String> notLinear = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            String name = p.getKey();
            String module = moduleOfWeight(name);
            String target = module == null ? null : matching(module, targets);
            if (target == null) {
                if (trainable == null || !trainable.matcher(name).find()) p.getValue().freeze(true);
                continue;
            }
            unmatched.remove(target);
            NDArray w = p.getValue().getArray();
            if (w.getShape().dimension() != 2) {
                notLinear.add(name + " " + w.getShape());
                p.getValue().freeze(true);
                continue;
            }
            long out = w.getShape().get(0);
            long in = w.getShape().get(1);
            NDArray base = w.duplicate();
            base.attach(manager);
            NDScope.unregister(base);
            float bound = (float) (1 / Math.sqrt(in));
            NDArray a = manager.randomUniform(-bound, bound, new Shape(rank, in), w.getDataType(), w.getDevice());
            NDArray b = manager.zeros(new Shape(out, rank), w.getDataType(), w.getDevice());
            adapters.add(new Adapter(module, p.getValue(), base, adapter(module + ".lora_A", a), adapter(module + ".lora_B", b)));
        }
        if (!notLinear.isEmpty()) {
            throw new IllegalArgumentException("spec.model.lora.targets: LoRA adapts 2-D (linear) weights; these are not: "
                    + String.join(", ", notLinear));
        }
        if (!unmatched.isEmpty()) {
            List<String> weights = block.getParameters().stream().map(p -> moduleOfWeight(p.getKey()))
                    .filter(java.util.Objects::nonNull).toList();
            throw new IllegalArgumentException("spec.model.lora.targets: " + unmatched + " name no module with a weight;"
                    + " the module's are " + weights);
        }
        return new ModuleAdapters(List.copyOf(adapters), (float) (alpha / rank));
    }

    /** {@code fc} for the parameter {@code fc.weight}; null for a parameter that is not a weight. */
    private static String moduleOfWeight(String parameterName) {
        return parameterName.endsWith(WEIGHT) ? parameterName.substring(0, parameterName.length() - WEIGHT.length()) : null;
    }

    private static String matching(String module, List<String> targets) {
        for (String t : targets) {
            if (module.equals(t) || module.endsWith("." + t)) return t;
        }
        return null;
    }

    private static Parameter adapter(String name, NDArray value) {
        NDScope.unregister(value);
        Parameter p = Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        p.setArray(value);
        value.setRequiresGradient(true);
        return p;
    }

    public boolean isEmpty() {
        return adapters.isEmpty();
    }

    /** The adapters, {@code module.lora_A} and {@code module.lora_B}, as checkpoints and the optimizer name them. */
    public PairList<String, Parameter> parameters() {
        PairList<String, Parameter> all = new PairList<>();
        for (Adapter ad : adapters) {
            all.add(ad.a().getName(), ad.a());
            all.add(ad.b().getName(), ad.b());
        }
        return all;
    }

    /** W := W0 + s B A for every adapted weight, in place, outside autograd. */
    public void merge() {
        boolean grad = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try (NDScope scope = new NDScope()) {
            for (Adapter ad : adapters) {
                NDArray delta = NativeScalar.multiply(ad.b().getArray().matMul(ad.a().getArray()), scaling);
                NativeCopy.into(ad.weight().getArray(), ad.base().add(delta));
            }
        } finally {
            JniUtils.setGradMode(grad);
        }
    }

    /** Adds to each adapter's gradient its share of the adapted weight's accumulated gradient dL/dW. */
    public void backpropagate() {
        try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            for (Adapter ad : adapters) {
                NDArray delta = NativeScalar.multiply(ad.b().getArray().matMul(ad.a().getArray()), scaling);
                NDArray weightGradient = ad.weight().getArray().getGradient();
                JniUtils.backward((PtNDArray) delta, (PtNDArray) weightGradient, false, false);
            }
        }
    }

    /**
     * Whether the parameter of that name is an adapted weight: it has gradients, but the adapters train in its place
     * (neither the optimizer nor a checkpoint takes it).
     */
    public boolean adapts(String parameterName) {
        for (Adapter ad : adapters) {
            if (parameterName.equals(ad.module() + WEIGHT)) return true;
        }
        return false;
    }

    /** Elements of the adapters. */
    public long size() {
        long n = 0;
        for (Adapter ad : adapters) n += ad.a().getArray().size() + ad.b().getArray().size();
        return n;
    }

    /** Elements of the adapted weights, which train through the adapters rather than themselves. */
    public long adaptedSize() {
        long n = 0;
        for (Adapter ad : adapters) n += ad.weight().getArray().size();
        return n;
    }
}
