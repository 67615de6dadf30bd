package dev.goodput.trainer.model.torchscript;

import java.util.ArrayList;
import java.util.List;

/**
 * Adds a method to the root class of a TorchScript archive that returns the module's buffers:
 * {@code goodput_buffers(self) -> List[Tensor]}, in the order of {@link Injected#names()}.
 *
 * <p>Why: checkpoints must hold BatchNorm's running statistics, and a restore must write them into the live module,
 * whose parameters the optimizer and the gradient handles keep using. DJL 0.36 reaches a loaded module's parameters
 * (moduleGetParams) but not its buffers, and its JNI has no attribute accessor; reloading the module from a rewritten
 * archive would replace every parameter tensor under the trainer. A TorchScript method can return the buffers
 * themselves (tensors sharing their storage), so reading them and writing them in place both go through one
 * {@code IValueUtils.runMethod} call. The method is compiled by libtorch with the rest of the archive's source; it
 * stays in the exported model, harmless, and is replaced when that model is loaded again.
 */
final class BufferAccessor {
    static final String METHOD = "goodput_buffers";

    /** The archive with the method added, and the buffers' dotted names (as named_buffers() gives them). */
    record Injected(TorchScriptArchive archive, List<String> names) {}

    private BufferAccessor() {}

    static Injected inject(TorchScriptArchive archive) {
        String root = archive.rootClass();
        int dot = root.lastIndexOf('.');
        String qualifier = root.substring(0, dot);
        String className = root.substring(dot + 1);
        ModuleClasses classes = ModuleClasses.parse(archive.sources());
        List<List<String>> paths = classes.bufferPaths(root);
        List<String> names = new ArrayList<>();
        List<String> getters = new ArrayList<>();
        for (List<String> path : paths) {
            String expr = "self";
            for (String attr : path) {
                if (attr.contains("\"") || attr.contains("\\")) {
                    throw new UnusableModelException("buffer " + String.join(".", path) + " has a name the trainer"
                            + " cannot address");
                }
                expr = "getattr(" + expr + ", \"" + attr + "\")";
            }
            getters.add(expr);
            names.add(String.join(".", path));
        }
        String source = archive.sources().get(qualifier);
        String body = getters.isEmpty() ? "annotate(List[Tensor], [])" : "[" + String.join(", ", getters) + "]";
        String method = "  def " + METHOD + "(self: " + root + ") -> List[Tensor]:\n    return " + body + "\n";
        return new Injected(archive.withSource(qualifier, insert(source, className, method)), names);
    }

    /** {@code source} with {@code method} at the end of class {@code className}, replacing an earlier one of ours. */
    static String insert(String source, String className, String method) {
        List<String> lines = new ArrayList<>(List.of(source.split("\n", -1)));
        int start = lines.indexOf("class " + className + "(Module):");
        if (start < 0) throw new UnusableModelException("the TorchScript source has no class " + className);
        int end = start + 1;
        while (end < lines.size() && (lines.get(end).startsWith(" ") || lines.get(end).isEmpty() && end < lines.size() - 1
                && lines.get(end + 1).startsWith(" "))) {
            end++;
        }
        // A model this trainer exported already has the method (from an earlier run): drop it, then add it anew.
        for (int i = start + 1; i < end; i++) {
            if (lines.get(i).startsWith("  def " + METHOD + "(")) {
                int j = i + 1;
                while (j < end && (lines.get(j).startsWith("   ") || lines.get(j).isEmpty())) j++;
                lines.subList(i, j).clear();
                end -= j - i;
                break;
            }
        }
        lines.add(end, method.stripTrailing());
        return String.join("\n", lines);
    }
}
