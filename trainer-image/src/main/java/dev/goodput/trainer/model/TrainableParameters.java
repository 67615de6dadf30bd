package dev.goodput.trainer.model;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * {@code spec.model.trainable}: only parameters whose names the expression finds train; the rest are frozen (no
 * gradient, no optimizer state, bit-unchanged by training). Names are those checkpoints and {@code /progress} use:
 * the Hugging Face names for a bert-classifier, the module's own dotted names for TorchScript, DJL's for built-ins.
 */
public final class TrainableParameters {
    private TrainableParameters() {}

    /**
     * Freezes every parameter {@code regex} does not find (anywhere in the name, as grep does; anchor it with ^ and $
     * for whole names); refuses an expression that is invalid or finds none. Call it before the gradient source is
     * built, which takes the parameters that require gradients when it is constructed.
     *
     * @return the names left trainable, in the block's order
     */
    public static List<String> freezeAllBut(Block block, String regex) {
        Pattern pattern = checked(block, regex);
        List<Pair<String, Parameter>> all = block.getParameters().stream().toList();
        for (Pair<String, Parameter> p : all) {
            if (!pattern.matcher(p.getKey()).find()) p.getValue().freeze(true);
        }
        return all.stream().map(Pair::getKey).filter(n -> pattern.matcher(n).find()).toList();
    }

    /** {@code regex} compiled, refused when invalid or when it finds none of the block's parameters. */
    public static Pattern checked(Block block, String regex) {
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("spec.model.trainable: not a regular expression: " + e.getDescription());
        }
        List<Pair<String, Parameter>> all = block.getParameters().stream().toList();
        List<String> kept = all.stream().map(Pair::getKey).filter(n -> pattern.matcher(n).find()).toList();
        if (kept.isEmpty()) {
            List<String> names = all.stream().map(Pair::getKey).toList();
            String shown = names.size() <= 40 ? String.join(", ", names)
                    : String.join(", ", names.subList(0, 40)) + ", ... (" + names.size() + " in all)";
            throw new IllegalArgumentException("spec.model.trainable: '" + regex + "' matches none of the model's "
                    + all.size() + " parameters, so nothing would train; its parameters are " + shown);
        }
        return pattern;
    }
}
