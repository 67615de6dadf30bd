package dev.goodput.api;

import dev.goodput.api.spec.DataSpec;
import dev.goodput.api.spec.Durations;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.api.spec.Quantities;
import dev.goodput.api.spec.TargetSpec;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.spec.TrainingSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The checks both sides share. The CRD schema and its CEL rules (from the annotations on the spec classes) refuse the
 * same manifests at the apiserver; the trainer runs all of these before it touches data or a checkpoint, so a local
 * run gets the same answer, naming the same field (BadManifestCorpusTest holds both sides to a corpus of bad
 * manifests). Each problem starts with the field's path and a colon, as the apiserver's causes do.
 */
public final class SpecValidator {
    private static final Set<String> ARCHITECTURES = Set.of(ModelSpec.ARCHITECTURES.split("\\|"));

    /** What Kubernetes accepts as an object name (a DNS-1123 subdomain): no '/', no '..', lower case. */
    static final java.util.regex.Pattern DNS_1123_SUBDOMAIN =
            java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private SpecValidator() {}

    public static List<String> validate(TrainingJobManifest m) {
        List<String> p = new ArrayList<>();
        if (!TrainingJobManifest.API_VERSION.equals(m.apiVersion)) {
            p.add("apiVersion: expected " + TrainingJobManifest.API_VERSION + ", got " + m.apiVersion);
        }
        if (!TrainingJobManifest.KIND.equals(m.kind)) {
            p.add("kind: expected " + TrainingJobManifest.KIND + ", got " + m.kind);
        }
        String name = m.metadata == null ? null : m.metadata.name;
        if (name != null && (name.length() > 253 || !DNS_1123_SUBDOMAIN.matcher(name).matches())) {
            // The trainer names its checkpoint folder after the job: a name like ../x would write outside it.
            p.add("metadata.name: '" + name + "' is not a Kubernetes object name: lower-case letters, digits, '-' and"
                    + " '.', starting and ending with a letter or digit, at most 253 characters");
        }
        if (m.spec == null) {
            p.add("spec: missing");
            return p;
        }
        validateSpec(m.spec, p);
        return p;
    }

    public static void validateSpec(TrainingJobSpec s, List<String> p) {
        if (s.model == null || s.model.architecture == null) {
            p.add("spec.model.architecture: missing; one of " + ModelSpec.ARCHITECTURES.replace('|', ','));
        } else if (!ARCHITECTURES.contains(s.model.architecture)) {
            p.add("spec.model.architecture: unknown model '" + s.model.architecture + "'; one of "
                    + ModelSpec.ARCHITECTURES.replace('|', ','));
        }
        if (s.model != null && s.model.hiddenLayers != null && s.model.hiddenLayers.stream().anyMatch(h -> h == null || h < 1)) {
            p.add("spec.model.hiddenLayers: every layer needs at least 1 unit");
        }
        if (s.model != null) {
            range("spec.model.width", s.model.width, 1, 1024, p);
            range("spec.model.dropout", s.model.dropout, 0, 0.9, p);
        }
        DataSpec d = s.data;
        if (d == null || d.path == null || d.path.isBlank()) {
            p.add("spec.data.path: missing");
        }
        if (d != null && d.format != null && !Set.of("idx", "csv", "imagefolder").contains(d.format)) {
            p.add("spec.data.format: unknown format '" + d.format + "'; one of idx,csv,imagefolder");
        }
        if (d != null) {
            atLeast("spec.data.trainLimit", d.trainLimit, 1, p);
            atLeast("spec.data.testLimit", d.testLimit, 1, p);
            if (d.loader != null) {
                atLeast("spec.data.loader.workers", d.loader.workers, 0, p);
                atLeast("spec.data.loader.prefetch", d.loader.prefetch, 0, p);
            }
            if (d.augment != null) atLeast("spec.data.augment.randomCropPadding", d.augment.randomCropPadding, 0, p);
        }
        validateTraining(s.training, p);
        validateTarget(s.target, p);
        if (s.checkpoint != null) {
            duration("spec.checkpoint.interval", s.checkpoint.interval, p);
            range("spec.checkpoint.keep", s.checkpoint.keep, 1, 100, p);
            range("spec.checkpoint.gracePeriodSeconds", s.checkpoint.gracePeriodSeconds, 1, 3600, p);
            quantity("spec.checkpoint.storage", s.checkpoint.storage, p);
        }
        TrainingSpec t = s.training;
        if ((t == null || t.epochs == null && t.maxSteps == null && t.maxDuration == null) && s.target == null) {
            p.add("spec: no budget: set spec.training.epochs, spec.training.maxSteps, spec.training.maxDuration or spec.target");
        }
        if (s.stall != null && s.stall.timeout != null) duration("spec.stall.timeout", s.stall.timeout, p);
        if (s.resources != null) {
            range("spec.resources.gpus", s.resources.gpus, 0, 16, p);
            quantity("spec.resources.cpu", s.resources.cpu, p);
            quantity("spec.resources.memory", s.resources.memory, p);
        }
        atLeast("spec.backoffLimit", s.backoffLimit, 0, p);
        atLeast("spec.ttlSecondsAfterFinished", s.ttlSecondsAfterFinished, 0, p);
        if (s.cost != null) atLeast("spec.cost.pricePerHour", s.cost.pricePerHour, 0, p);
    }

    private static void validateTraining(TrainingSpec t, List<String> p) {
        if (t == null) {
            p.add("spec.training: missing");
            return;
        }
        if (t.globalBatchSize == null || t.globalBatchSize < 1) {
            p.add("spec.training.globalBatchSize: must be >= 1, got " + t.globalBatchSize);
        }
        if (t.batchSize != null && !t.batchSize.equals("auto")) {
            if (!t.batchSize.matches("[1-9][0-9]*")) {
                p.add("spec.training.batchSize: must be auto or a positive integer, got '" + t.batchSize + "'");
            } else if (t.globalBatchSize != null && t.globalBatchSize % Integer.parseInt(t.batchSize) != 0) {
                p.add("spec.training.batchSize: " + t.batchSize + " does not divide globalBatchSize " + t.globalBatchSize
                        + "; pick a divisor or use auto");
            }
        }
        atLeast("spec.training.epochs", t.epochs, 1, p);
        atLeast("spec.training.maxSteps", t.maxSteps, 1, p);
        duration("spec.training.maxDuration", t.maxDuration, p);
        quantity("spec.training.memoryBudget", t.memoryBudget, p);
        if (t.batchMargin != null && !(t.batchMargin >= 0 && t.batchMargin <= 0.5)) {
            p.add("spec.training.batchMargin: must be between 0 and 0.5 (a fraction of the largest micro-batch that fit), got " + t.batchMargin);
        }
        atLeast("spec.training.referenceBatchSize", t.referenceBatchSize, 1, p);
        atLeast("spec.training.initialLossScale", t.initialLossScale, 1, p);
        if (t.optimizer != null) {
            if (!Set.of("adamw", "sgd").contains(t.optimizer.name)) {
                p.add("spec.training.optimizer.name: unknown optimizer '" + t.optimizer.name + "'; one of adamw,sgd");
            }
            if (t.optimizer.lr == null || !(t.optimizer.lr > 0)) {
                p.add("spec.training.optimizer.lr: must be > 0, got " + t.optimizer.lr);
            }
            atLeast("spec.training.optimizer.weightDecay", t.optimizer.weightDecay, 0, p);
            unit("spec.training.optimizer.beta1", t.optimizer.beta1, p);
            unit("spec.training.optimizer.beta2", t.optimizer.beta2, p);
            unit("spec.training.optimizer.momentum", t.optimizer.momentum, p);
            atLeast("spec.training.optimizer.eps", t.optimizer.eps, 0, p);
        }
        if (t.schedule != null && !Set.of("constant", "cosine", "linear", "onecycle").contains(t.schedule.name)) {
            p.add("spec.training.schedule.name: unknown schedule '" + t.schedule.name + "'; one of constant,cosine,linear,onecycle");
        }
        if (t.schedule != null) {
            atLeast("spec.training.schedule.warmupSteps", t.schedule.warmupSteps, 0, p);
            range("spec.training.schedule.minLrRatio", t.schedule.minLrRatio, 0, 1, p);
        }
        if ("bf16".equals(t.precision)) {
            p.add("spec.training.precision: bf16 is not supported by the DJL 0.36 PyTorch engine (it has no bf16 type"
                    + " mapping and crashes the JVM); use fp16 (mixed, on CUDA) or fp32");
        } else if (t.precision != null && !Set.of("auto", "fp32", "fp16").contains(t.precision)) {
            p.add("spec.training.precision: unknown precision '" + t.precision + "'; one of auto,fp32,fp16");
        }
        if (t.gradientClipNorm != null && !(t.gradientClipNorm > 0)) {
            p.add("spec.training.gradientClipNorm: must be > 0, got " + t.gradientClipNorm);
        }
        range("spec.training.threads", t.threads, 1, 256, p);
    }

    private static void validateTarget(TargetSpec target, List<String> p) {
        if (target == null) return;
        if (!Set.of("accuracy", "loss").contains(target.metric)) {
            p.add("spec.target.metric: unknown metric '" + target.metric + "'; one of accuracy,loss");
        }
        if (target.value == null) {
            p.add("spec.target.value: missing");
        } else if ("accuracy".equals(target.metric) && (target.value <= 0 || target.value > 1)) {
            p.add("spec.target.value: accuracy is a share in (0, 1], got " + target.value);
        }
        atLeast("spec.target.patience", target.patience, 0, p);
        atLeast("spec.target.evalEverySteps", target.evalEverySteps, 1, p);
    }

    private static void duration(String field, String value, List<String> p) {
        if (value == null) return;
        try {
            if (Durations.parse(value).isZero()) p.add(field + ": must be more than 0");
        } catch (IllegalArgumentException e) {
            p.add(field + ": " + e.getMessage());
        }
    }

    private static void range(String field, Number v, double min, double max, List<String> p) {
        if (v != null && (v.doubleValue() < min || v.doubleValue() > max)) {
            p.add(field + ": must be in [" + plain(min) + ", " + plain(max) + "], got " + v);
        }
    }

    private static void atLeast(String field, Number v, double min, List<String> p) {
        if (v != null && v.doubleValue() < min) p.add(field + ": must be >= " + plain(min) + ", got " + v);
    }

    private static void quantity(String field, String v, List<String> p) {
        if (v == null) return;
        try {
            Quantities.parse(v);
        } catch (IllegalArgumentException e) {
            p.add(field + ": " + e.getMessage());
        }
    }

    private static String plain(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    private static void unit(String field, Double v, List<String> p) {
        if (v != null && (v < 0 || v >= 1)) p.add(field + ": must be in [0, 1), got " + v);
    }
}
