package dev.goodput.trainer.model.torchscript;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The module classes an archive's TorchScript source declares, and the buffers reachable from its root module.
 * torch.jit.save prints every class with its attributes at two spaces of indentation, in one of two forms
 * ({@code name : Type}, or {@code __annotations__["name"] = Type} for names that are not identifiers, such as the
 * children of nn.Sequential) and its buffers as {@code __buffers__ = ["running_mean", ...]}; that is all this reads.
 */
final class ModuleClasses {
    private static final Pattern CLASS = Pattern.compile("^class (\\w+)\\(Module\\):\\s*$");
    private static final Pattern BUFFERS = Pattern.compile("^  __buffers__ = \\[(.*)]\\s*$");
    private static final Pattern ATTRIBUTE = Pattern.compile("^  (\\w+) : (.+?)\\s*$");
    private static final Pattern ANNOTATION = Pattern.compile("^  __annotations__\\[\"([^\"]*)\"] = (.+?)\\s*$");
    private static final Pattern QUOTED = Pattern.compile("\"([^\"]*)\"");
    /** Deeper than any real network; stops a malformed archive whose classes contain each other. */
    private static final int MAX_DEPTH = 64;

    /** One module class: its buffers' names and every attribute's declared type, in declaration order. */
    record ModuleClass(String name, List<String> buffers, Map<String, String> attributes) {}

    private final Map<String, ModuleClass> classes;

    private ModuleClasses(Map<String, ModuleClass> classes) {
        this.classes = classes;
    }

    /** @param sources source text by qualifier, as {@link TorchScriptArchive#sources()} gives it */
    static ModuleClasses parse(Map<String, String> sources) {
        Map<String, ModuleClass> classes = new LinkedHashMap<>();
        sources.forEach((qualifier, text) -> {
            String current = null;
            List<String> buffers = null;
            Map<String, String> attributes = null;
            for (String line : text.split("\n", -1)) {
                Matcher c = CLASS.matcher(line);
                if (c.matches()) {
                    current = qualifier + "." + c.group(1);
                    buffers = new ArrayList<>();
                    attributes = new LinkedHashMap<>();
                    classes.put(current, new ModuleClass(current, buffers, attributes));
                    continue;
                }
                if (!line.startsWith(" ") && !line.isBlank()) current = null; // another top-level statement
                if (current == null) continue;
                Matcher b = BUFFERS.matcher(line);
                Matcher a = ATTRIBUTE.matcher(line);
                Matcher n = ANNOTATION.matcher(line);
                if (b.matches()) {
                    Matcher q = QUOTED.matcher(b.group(1));
                    while (q.find()) buffers.add(q.group(1));
                } else if (a.matches()) {
                    attributes.put(a.group(1), a.group(2));
                } else if (n.matches()) {
                    attributes.put(n.group(1), n.group(2));
                }
            }
        });
        return new ModuleClasses(classes);
    }

    boolean declares(String qualifiedName) {
        return classes.containsKey(qualifiedName);
    }

    /**
     * Every tensor buffer reachable from {@code root}, each as its attribute path (["bn1", "running_mean"]), in the
     * order of module.named_buffers(): a module's own buffers, then its submodules' in declaration order. A buffer
     * declared Optional[Tensor] (BatchNorm without running statistics keeps None there) holds no state and is left out.
     */
    List<List<String>> bufferPaths(String root) {
        List<List<String>> paths = new ArrayList<>();
        collect(root, new ArrayList<>(), paths);
        return paths;
    }

    private void collect(String className, List<String> prefix, List<List<String>> out) {
        if (prefix.size() > MAX_DEPTH) {
            throw new UnusableModelException("the TorchScript module nests deeper than " + MAX_DEPTH + " modules");
        }
        ModuleClass c = classes.get(className);
        if (c == null) throw new UnusableModelException("the TorchScript archive has no source for class " + className);
        for (String buffer : c.buffers()) {
            if ("Tensor".equals(c.attributes().get(buffer))) out.add(append(prefix, buffer));
        }
        c.attributes().forEach((name, type) -> {
            if (classes.containsKey(type) && !c.buffers().contains(name)) collect(type, append(prefix, name), out);
        });
    }

    private static List<String> append(List<String> prefix, String name) {
        List<String> p = new ArrayList<>(prefix);
        p.add(name);
        return p;
    }
}
