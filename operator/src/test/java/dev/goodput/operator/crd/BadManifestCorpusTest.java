package dev.goodput.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.goodput.api.ManifestException;
import dev.goodput.api.ManifestReader;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.TestApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.StatusCause;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One corpus of bad manifests, judged by both sides: the real kube-apiserver with the checked-in CRD (schema and CEL
 * rules, server-side dry run, so nothing is stored) and the trainer's own reading of a local manifest
 * ({@link ManifestReader#parse}, what {@code trainer run job.yaml} does before it touches data, judging by the CRD's
 * own schema and CEL rules). Each must refuse it, naming the same set of fields; and a second corpus, at the edges
 * of the rules, must be accepted by both. A case one side refuses and the other accepts, or a field one side names
 * and the other does not, is the drift this test exists to catch: the same YAML must get the same answer on a laptop
 * and on a cluster.
 */
@ExtendWith(RealApiServer.class)
class BadManifestCorpusTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static String ns;

    static final String VALID = """
            apiVersion: goodput.dev/v1alpha1
            kind: TrainingJob
            metadata:
              name: corpus
            spec:
              model: {architecture: cnn, width: 16}
              data: {format: idx, trainLimit: 512}
              training:
                epochs: 1
                globalBatchSize: 128
                batchSize: auto
                optimizer: {name: adamw, lr: 0.001}
                schedule: {name: cosine, warmupSteps: 10}
              target: {metric: accuracy, value: 0.8}
              checkpoint: {keep: 2, interval: 5m}
              resources: {cpu: "1", memory: 2Gi}
            """;

    @BeforeAll
    static void namespace(TestApiServer api, KubernetesClient client) {
        ns = api.createNamespace(client, "corpus");
    }

    /**
     * A bad manifest: the valid one with {@code path} set to {@code value} (null removes it), {@code alsoRemoved}
     * removed and each of {@code alsoSet} set; {@code field} is what both sides must name.
     */
    record Bad(String what, String path, Object value, String field, String alsoRemoved, boolean explicitNull,
            java.util.Map<String, Object> alsoSet) {
        Bad(String what, String path, Object value) {
            this(what, path, value, path, null, false, java.util.Map.of());
        }

        Bad(String what, String path, Object value, String field, String alsoRemoved) {
            this(what, path, value, field, alsoRemoved, false, java.util.Map.of());
        }

        /** The field written as {@code null} rather than removed. */
        Bad withNull() {
            return new Bad(what, path, value, field, alsoRemoved, true, alsoSet);
        }

        /** Also sets {@code otherPath} to {@code otherValue}: a rule about two fields. */
        Bad with(String otherPath, Object otherValue) {
            var more = new java.util.LinkedHashMap<>(alsoSet);
            more.put(otherPath, otherValue);
            return new Bad(what, path, value, field, alsoRemoved, explicitNull, more);
        }

        ObjectNode apply(ObjectNode manifest) {
            alsoSet.forEach((p, v) -> set(manifest, p, v));
            if (explicitNull) {
                set(manifest, path, com.fasterxml.jackson.databind.node.NullNode.getInstance());
                return manifest;
            }
            set(manifest, path, value);
            if (alsoRemoved != null) {
                set(manifest, alsoRemoved, null);
            }
            return manifest;
        }

        static void set(ObjectNode manifest, String path, Object value) {
            String[] parts = path.split("\\.");
            ObjectNode node = manifest;
            for (int i = 0; i < parts.length - 1; i++) {
                node = node.has(parts[i]) ? (ObjectNode) node.get(parts[i]) : node.putObject(parts[i]);
            }
            if (value == null) {
                node.remove(parts[parts.length - 1]);
            } else {
                node.set(parts[parts.length - 1], JSON.valueToTree(value));
            }
        }

        @Override
        public String toString() {
            return what;
        }
    }

    static Stream<Bad> corpus() {
        return Stream.of(
                new Bad("an unknown model", "spec.model.architecture", "vgg16"),
                new Bad("width 0", "spec.model.width", 0),
                new Bad("width past 1024", "spec.model.width", 2048),
                new Bad("dropout past 0.9", "spec.model.dropout", 0.95),
                new Bad("negative dropout", "spec.model.dropout", -0.1),
                new Bad("an unknown data format", "spec.data.format", "parquet"),
                new Bad("trainLimit 0", "spec.data.trainLimit", 0),
                new Bad("negative loader workers", "spec.data.loader.workers", -1),
                new Bad("globalBatchSize 0", "spec.training.globalBatchSize", 0),
                new Bad("a batchSize that is no number", "spec.training.batchSize", "12x"),
                new Bad("a batchSize that does not divide the global batch", "spec.training.batchSize", "48"),
                new Bad("epochs 0", "spec.training.epochs", 0),
                new Bad("maxSteps 0", "spec.training.maxSteps", 0),
                new Bad("a duration in words", "spec.training.maxDuration", "10 minutes"),
                new Bad("a memory budget in words", "spec.training.memoryBudget", "lots"),
                new Bad("batchMargin past 0.5", "spec.training.batchMargin", 0.7),
                new Bad("referenceBatchSize 0", "spec.training.referenceBatchSize", 0),
                new Bad("an unknown optimizer", "spec.training.optimizer.name", "lamb"),
                new Bad("learning rate 0", "spec.training.optimizer.lr", 0),
                new Bad("a negative learning rate", "spec.training.optimizer.lr", -0.1),
                new Bad("negative weight decay", "spec.training.optimizer.weightDecay", -1),
                new Bad("beta1 of 1 (Adam divides by zero)", "spec.training.optimizer.beta1", 1.0),
                new Bad("beta2 past 1", "spec.training.optimizer.beta2", 1.5),
                new Bad("momentum of 1", "spec.training.optimizer.momentum", 1.0),
                new Bad("negative eps", "spec.training.optimizer.eps", -1e-8),
                new Bad("an unknown schedule", "spec.training.schedule.name", "step"),
                new Bad("negative warmup", "spec.training.schedule.warmupSteps", -5),
                new Bad("minLrRatio past 1", "spec.training.schedule.minLrRatio", 1.5),
                new Bad("bf16, which DJL cannot map", "spec.training.precision", "bf16"),
                new Bad("an unknown precision", "spec.training.precision", "int8"),
                new Bad("gradient clipping at 0", "spec.training.gradientClipNorm", 0),
                new Bad("an EMA decay of 1 (the average never moves)", "spec.training.emaDecay", 1.0),
                new Bad("an EMA decay of 0", "spec.training.emaDecay", 0),
                new Bad("a loss scale below 1", "spec.training.initialLossScale", 0.5),
                new Bad("0 threads", "spec.training.threads", 0),
                new Bad("512 threads", "spec.training.threads", 512),
                new Bad("an unknown target metric", "spec.target.metric", "f1"),
                new Bad("an accuracy target past 1", "spec.target.value", 1.5),
                new Bad("negative patience", "spec.target.patience", -1),
                new Bad("evaluating every 0 steps", "spec.target.evalEverySteps", 0),
                new Bad("keeping no checkpoint", "spec.checkpoint.keep", 0),
                new Bad("keeping 101 checkpoints", "spec.checkpoint.keep", 101),
                new Bad("a checkpoint interval in words", "spec.checkpoint.interval", "often"),
                new Bad("a grace period of 0 s", "spec.checkpoint.gracePeriodSeconds", 0),
                new Bad("17 GPUs", "spec.resources.gpus", 17),
                new Bad("-1 GPUs", "spec.resources.gpus", -1),
                new Bad("a memory request in words", "spec.resources.memory", "two gigs"),
                new Bad("a stall timeout in words", "spec.stall.timeout", "soon"),
                new Bad("a negative backoffLimit", "spec.backoffLimit", -1),
                new Bad("a negative price", "spec.cost.pricePerHour", -2),
                new Bad("a name that climbs out of the checkpoint folder", "metadata.name", "../escape"),
                new Bad("a name in upper case", "metadata.name", "Fashion_MNIST"),
                new Bad("no budget at all", "spec.training.epochs", null, "spec", "spec.target"),
                new Bad("a bert-classifier with no weights and image data", "spec.model.architecture", "bert-classifier",
                        "spec.model.pretrained", null),
                new Bad("pretrained weights for a cnn", "spec.model.pretrained", "/models/minilm"),
                new Bad("a TorchScript file for a cnn", "spec.model.torchscript", "/models/net.pt"),
                new Bad("architecture torchscript with no module", "spec.model.architecture", "torchscript",
                        "spec.model.torchscript", null),
                new Bad("LoRA on a cnn", "spec.model.lora", java.util.Map.of("rank", 8)),
                new Bad("LoRA rank 0", "spec.model.lora", java.util.Map.of("rank", 0), "spec.model.lora.rank", null),
                new Bad("a LoRA target BERT does not have", "spec.model", java.util.Map.of("architecture", "bert-classifier",
                        "pretrained", "/models/minilm", "lora", java.util.Map.of("targets", List.of("query", "conv1"))),
                        "spec.model.lora.targets", null),
                new Bad("LoRA on a TorchScript module naming no layer", "spec.model", java.util.Map.of("architecture",
                        "torchscript", "torchscript", "/models/net.pt", "lora", java.util.Map.of("rank", 4)),
                        "spec.model.lora.targets", null),
                new Bad("adapter dropout on a TorchScript module", "spec.model", java.util.Map.of("architecture",
                        "torchscript", "torchscript", "/models/net.pt", "lora",
                        java.util.Map.of("targets", List.of("fc"), "dropout", 0.1)), "spec.model.lora.dropout", null),
                new Bad("an empty trainable pattern", "spec.model.trainable", ""),
                new Bad("a text format for an image model", "spec.data.format", "textcsv"),
                new Bad("a text sequence of 4 tokens", "spec.data.text.maxLength", 4),
                new Bad("an unknown padding", "spec.data.text.padding", "dynamic"),
                new Bad("gradient checkpointing on a cnn", "spec.training.gradientCheckpointing", true),
                new Bad("0 workers", "spec.resources.workers", 0),
                new Bad("65 workers", "spec.resources.workers", 65).with("spec.checkpoint.claimName", "shared")
                        .with("spec.training.globalBatchSize", 130),
                new Bad("two workers on the operator's ReadWriteOnce claim", "spec.resources.workers", 2),
                new Bad("a global batch that 3 workers cannot share equally", "spec.resources.workers", 3,
                        "spec.training.globalBatchSize", null)
                        .with("spec.checkpoint.claimName", "shared"),
                new Bad("a global batch that 2 workers x 3 GPUs cannot share equally", "spec.resources.workers", 2,
                        "spec.training.globalBatchSize", null).with("spec.resources.gpus", 3)
                        .with("spec.checkpoint.claimName", "shared"));
    }

    @Test
    void theCorpusIsLargeAndTheValidManifestIsAcceptedByBoth(KubernetesClient client) {
        assertThat(corpus().count()).isGreaterThanOrEqualTo(30);
        ObjectNode valid = yaml(VALID);
        assertThat(catchThrowable(() -> dryRunCreate(client, valid))).as("the apiserver accepts the base").isNull();
        assertThat(catchThrowable(() -> ManifestReader.parse(VALID, "corpus.yaml"))).as("the trainer accepts it").isNull();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void bothSidesRefuseItNamingTheSameField(Bad bad, KubernetesClient client) throws Exception {
        ObjectNode manifest = bad.apply(yaml(VALID));
        String text = JSON.writeValueAsString(manifest);

        Throwable server = catchThrowable(() -> dryRunCreate(client, manifest));
        assertThat(server).as("the apiserver refuses %s", text).isInstanceOf(KubernetesClientException.class);
        KubernetesClientException e = (KubernetesClientException) server;
        assertThat(e.getCode()).as("%s", e.getMessage()).isEqualTo(422);
        List<String> serverFields = e.getStatus().getDetails().getCauses().stream().map(StatusCause::getField).toList();
        assertThat(serverFields).as("the apiserver's fields: %s", e.getMessage()).contains(bad.field());

        Throwable local = catchThrowable(() -> ManifestReader.parse(text, "job.yaml"));
        assertThat(local).as("the trainer refuses %s", text).isInstanceOf(ManifestException.class);
        List<String> localFields = ((ManifestException) local).problems().stream()
                .map(p -> p.contains(":") ? p.substring(0, p.indexOf(':')) : p).toList();
        assertThat(localFields).as("the trainer's fields: %s", ((ManifestException) local).problems()).contains(bad.field());
        // The same verdict, not just an overlap: every field one side names, the other names too.
        assertThat(java.util.Set.copyOf(localFields)).as("trainer %s vs apiserver %s", ((ManifestException) local).problems(),
                e.getMessage()).isEqualTo(java.util.Set.copyOf(serverFields));
    }

    /** Manifests at the edges of the rules, which both sides must accept: a check stricter on one side is drift too. */
    static Stream<Bad> edgesBothAccept() {
        return Stream.of(
                new Bad("the widest model", "spec.model.width", 1024),
                new Bad("the most dropout", "spec.model.dropout", 0.9),
                new Bad("an accuracy target of exactly 1, written as an integer", "spec.target.value", 1),
                new Bad("a batchSize written as a number", "spec.training.batchSize", 32),
                new Bad("beta2 just under 1", "spec.training.optimizer.beta2", 0.9999),
                new Bad("momentum 0", "spec.training.optimizer.momentum", 0),
                new Bad("no warmup", "spec.training.schedule.warmupSteps", 0),
                new Bad("a learning rate set to null (pruned, so the default)", "spec.training.optimizer.lr", null, "-",
                        null).withNull(),
                new Bad("a budget by the target alone", "spec.training.epochs", null, "-", null),
                new Bad("256 threads", "spec.training.threads", 256),
                new Bad("16 GPUs", "spec.resources.gpus", 16),
                new Bad("64 workers on a named claim share the global batch of 128", "spec.resources.workers", 64, "-",
                        null).with("spec.checkpoint.claimName", "shared"),
                new Bad("one worker named, on the operator's claim", "spec.resources.workers", 1),
                new Bad("keeping 100 checkpoints", "spec.checkpoint.keep", 100),
                new Bad("a duration in two units", "spec.training.maxDuration", "1h30m"),
                new Bad("a memory budget in Gi", "spec.training.memoryBudget", "1.5Gi"));
    }

    static final String TEXT = """
            apiVersion: goodput.dev/v1alpha1
            kind: TrainingJob
            metadata:
              name: corpus-text
            spec:
              model:
                architecture: bert-classifier
                pretrained: /models/all-minilm-l6-v2
                lora: {rank: 8, alpha: 16, dropout: 0.1, targets: [query, value, attention.output.dense]}
              data:
                format: textcsv
                path: /data/rotten-tomatoes
                text: {textColumn: text, labelColumn: label, maxLength: 512, padding: longest}
              training: {epochs: 1, gradientCheckpointing: true, precision: fp32}
            """;

    static final String TORCHSCRIPT = """
            apiVersion: goodput.dev/v1alpha1
            kind: TrainingJob
            metadata:
              name: corpus-torchscript
            spec:
              model: {architecture: torchscript, torchscript: /models/fashion_cnn_stages, trainable: '^stage-3\\.'}
              training: {epochs: 1, gradientCheckpointing: true}
            """;

    static final String TORCHSCRIPT_LORA = """
            apiVersion: goodput.dev/v1alpha1
            kind: TrainingJob
            metadata:
              name: corpus-torchscript-lora
            spec:
              model:
                architecture: torchscript
                torchscript: /models/fashion_cnn.pt
                trainable: '^head\\.'
                lora: {rank: 4, alpha: 8, dropout: 0, targets: [fc, stage-2.fc]}
              training: {epochs: 1}
            """;

    /** A data-parallel job: 4 pods x 2 GPUs share a global batch of 256, 32 examples a rank and step. */
    static final String MULTI_WORKER = """
            apiVersion: goodput.dev/v1alpha1
            kind: TrainingJob
            metadata:
              name: corpus-workers
            spec:
              model: {architecture: resnet18}
              training: {epochs: 10, globalBatchSize: 256, batchSize: auto}
              checkpoint: {claimName: shared-checkpoints, interval: 5m}
              resources: {workers: 4, gpus: 2, gpuType: nvidia-h100-80gb, memory: 32Gi}
            """;

    @Test
    void aTextJobABringYourOwnModelJobAndAMultiWorkerJobAreAcceptedByBoth(KubernetesClient client) {
        for (String text : List.of(TEXT, TORCHSCRIPT, TORCHSCRIPT_LORA, MULTI_WORKER)) {
            assertThat(catchThrowable(() -> dryRunCreate(client, yaml(text)))).as("the apiserver accepts %s", text).isNull();
            assertThat(catchThrowable(() -> ManifestReader.parse(text, "job.yaml"))).as("the trainer accepts %s", text).isNull();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("edgesBothAccept")
    void bothSidesAcceptTheEdges(Bad edge, KubernetesClient client) throws Exception {
        ObjectNode manifest = edge.apply(yaml(VALID));
        String text = JSON.writeValueAsString(manifest);
        assertThat(catchThrowable(() -> dryRunCreate(client, manifest))).as("the apiserver accepts %s", text).isNull();
        assertThat(catchThrowable(() -> ManifestReader.parse(text, "job.yaml"))).as("the trainer accepts %s", text).isNull();
    }

    static void dryRunCreate(KubernetesClient client, ObjectNode manifest) {
        GenericKubernetesResource raw = Serialization.unmarshal(manifest.toString(), GenericKubernetesResource.class);
        client.genericKubernetesResources("goodput.dev/v1alpha1", "TrainingJob").inNamespace(ns).resource(raw)
                .dryRun().create();
    }

    static ObjectNode yaml(String text) {
        try {
            return (ObjectNode) ManifestReader.yaml().readTree(text);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
