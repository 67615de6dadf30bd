package dev.goodput.trainer.model.torchscript;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * spec.model.trainable: fine-tuning part of a model. Parameters whose names match the regular expression (found
 * anywhere in the name, as grep does; anchor it with ^ and $ to match whole names) are trained, all others frozen:
 * no gradient is computed for them and the optimizer never sees them (GradientAccumulator takes only parameters that
 * require a gradient, so this must run before it is built). Frozen parameters are still checkpointed and exported.
 */
public final class TrainableParameters {
    private TrainableParameters() {}

    /**
     * Freezes every parameter of {@code block} whose name does not match {@code regex}.
     *
     * @return the names of the parameters left trainable, in the block's order
     * @throws UnusableModelException when the regex is invalid or matches no parameter (nothing would train)
     */
    public static List<String> freezeAllBut(Block block, String regex) {
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new UnusableModelException("spec.model.trainable: " + regex + " is not a regular expression: "
                    + e.getDescription(), e);
        }
        List<String> all = new ArrayList<>();
        List<String> trained = new ArrayList<>();
        for (Pair<String, Parameter> p : block.getParameters()) {
            all.add(p.getKey());
            if (pattern.matcher(p.getKey()).find()) trained.add(p.getKey());
        }
        if (trained.isEmpty()) {
            throw new UnusableModelException("spec.model.trainable: " + regex + " matches none of the model's parameters,"
                    + " so nothing would train; its parameters are " + String.join(", ", all));
        }
        for (Pair<String, Parameter> p : block.getParameters()) {
            p.getValue().freeze(!trained.contains(p.getKey()));
        }
        return List.copyOf(trained);
    }
}
