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

    /** Freezes every parameter {@code regex} does not find; refuses an expression that is invalid or finds none. */
    public static void freezeAllBut(Block block, String regex) {
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("spec.model.trainable: not a regular expression: " + e.getDescription());
        }
        List<Pair<String, Parameter>> all = block.getParameters().stream().toList();
        List<String> kept = all.stream().map(Pair::getKey).filter(n -> pattern.matcher(n).find()).toList();
        if (kept.isEmpty()) {
            List<String> some = all.stream().map(Pair::getKey).limit(8).toList();
            throw new IllegalArgumentException("spec.model.trainable: '" + regex + "' matches none of the model's "
                    + all.size() + " parameters, so nothing would train; their names look like " + some);
        }
        for (Pair<String, Parameter> p : all) {
            if (!pattern.matcher(p.getKey()).find()) p.getValue().freeze(true);
        }
    }
}
