package dev.goodput.operator.reconcile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.operator.status.JobEvent;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.TreeSet;

/**
 * The spec an attempt runs, kept in {@code status.reconciledSpec} (as the Flink operator keeps its last reconciled
 * spec), and what changed since: a new attempt compares the spec it is about to run with the one its predecessor ran,
 * and a difference is announced (event {@code SpecChanged}) rather than silently picked up. The CRD lets only fields
 * that do not change the training trajectory differ while a job may run (spec.training.maxDuration and emaDecay,
 * target, resources, checkpoint, cost, ...); the rest can change only through suspend → resume.
 */
public final class SpecChanges {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SpecChanges() {}

    /** The spec as it is kept in status: compact JSON, fields in declaration order. */
    public static String serialize(TrainingJobSpec spec) {
        try {
            return JSON.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the spec", e);
        }
    }

    /**
     * The paths ({@code spec.training.optimizer.lr}) whose values differ between the spec kept in status and
     * {@code now}, sorted; empty when nothing differs or nothing was kept yet (the first attempt).
     */
    public static List<String> changed(String kept, TrainingJobSpec now) {
        if (kept == null || kept.isBlank()) {
            return List.of();
        }
        JsonNode before;
        try {
            before = JSON.readTree(kept);
        } catch (JsonProcessingException e) {
            return List.of("spec"); // unreadable: say that something changed rather than nothing
        }
        TreeSet<String> out = new TreeSet<>();
        diff("spec", before, tree(now), out);
        out.remove("spec.suspend"); // how the job is driven, not what an attempt runs
        return new ArrayList<>(out);
    }

    /**
     * The SpecChanged event of an attempt about to start with {@code now}, or null when it runs what its predecessor
     * ran (or has none).
     */
    public static JobEvent event(String kept, TrainingJobSpec now, int attempt, long generation) {
        List<String> paths = changed(kept, now);
        if (paths.isEmpty()) {
            return null;
        }
        return new JobEvent(JobEvent.NORMAL, "SpecChanged",
                "attempt " + attempt + " runs generation " + generation + ": " + describe(kept, now, paths), attempt);
    }

    /** One line for the event: the paths, with old and new values where they are scalars. */
    public static String describe(String kept, TrainingJobSpec now, List<String> paths) {
        JsonNode before;
        try {
            before = JSON.readTree(kept);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return String.join(", ", paths);
        }
        JsonNode after = tree(now);
        List<String> parts = new ArrayList<>();
        for (String p : paths) {
            JsonNode a = at(before, p), b = at(after, p);
            parts.add(scalar(a) && scalar(b) ? p + " " + text(a) + " -> " + text(b) : p);
        }
        return String.join(", ", parts);
    }

    /** Through the same text as the kept spec, so that numbers compare as they were written (42 as 42, not 42L). */
    private static JsonNode tree(TrainingJobSpec spec) {
        try {
            return JSON.readTree(serialize(spec));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void diff(String path, JsonNode a, JsonNode b, TreeSet<String> out) {
        a = a == null || a.isNull() ? MissingNode.getInstance() : a;
        b = b == null || b.isNull() ? MissingNode.getInstance() : b;
        if (a.equals(b)) {
            return;
        }
        if (a.isObject() && b.isObject()) {
            TreeSet<String> names = new TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                diff(path + "." + n, a.get(n), b.get(n), out);
            }
            return;
        }
        out.add(path);
    }

    private static JsonNode at(JsonNode root, String path) {
        JsonNode n = root;
        Iterator<String> it = List.of(path.split("\\.")).iterator();
        it.next(); // "spec"
        while (it.hasNext() && n != null) {
            n = n.get(it.next());
        }
        return n == null ? MissingNode.getInstance() : n;
    }

    private static boolean scalar(JsonNode n) {
        return n.isMissingNode() || n.isNull() || n.isValueNode();
    }

    private static String text(JsonNode n) {
        return n.isMissingNode() || n.isNull() ? "(unset)" : n.asText();
    }
}
