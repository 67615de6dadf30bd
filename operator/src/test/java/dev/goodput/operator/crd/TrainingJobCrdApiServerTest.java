package dev.goodput.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goodput.api.status.JobPhase;
import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.TestApiServer;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.FieldValidateable;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The checked-in CRD on a real kube-apiserver: round trip, schema, CEL rules, printer columns. */
@ExtendWith(RealApiServer.class)
class TrainingJobCrdApiServerTest {
    static String ns;

    @BeforeAll
    static void namespace(TestApiServer api, KubernetesClient client) {
        ns = api.createNamespace(client, "crd");
    }

    static String manifest(String name, String training) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: %s
                spec:
                  model:
                    architecture: cnn
                  data:
                    trainLimit: 512
                  training:
                %s
                """.formatted(name, training.indent(4).stripTrailing());
    }

    TrainingJob apply(KubernetesClient client, String yaml) {
        TrainingJob job = Serialization.unmarshal(yaml, TrainingJob.class);
        return client.resources(TrainingJob.class).inNamespace(ns).resource(job).create();
    }

    KubernetesClientException refused(KubernetesClient client, String yaml) {
        // Sent as an untyped object so that what the apiserver judges is the YAML itself, not a Java round trip.
        GenericKubernetesResource raw = Serialization.unmarshal(yaml, GenericKubernetesResource.class);
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(
                () -> client.genericKubernetesResources("goodput.dev/v1alpha1", "TrainingJob").inNamespace(ns)
                        .resource(raw).fieldValidation(FieldValidateable.Validation.STRICT).create());
        assertThat(t).as("the apiserver refuses %n%s", yaml).isInstanceOf(KubernetesClientException.class);
        KubernetesClientException e = (KubernetesClientException) t;
        assertThat(e.getCode()).as("400 (strict decoding) or 422 (invalid)").isIn(400, 422);
        return e;
    }

    @Test
    void appliesAndReadsBackATrainingJob(KubernetesClient client) {
        apply(client, manifest("roundtrip", """
                epochs: 2
                globalBatchSize: 128
                batchSize: 32
                precision: fp32
                """));
        TrainingJob back = client.resources(TrainingJob.class).inNamespace(ns).withName("roundtrip").get();
        assertThat(back.getSpec().model.architecture).isEqualTo("cnn");
        assertThat(back.getSpec().training.epochs).isEqualTo(2);
        assertThat(back.getSpec().training.batchSize).isEqualTo("32");
        assertThat(back.getSpec().data.trainLimit).isEqualTo(512);
        assertThat(back.getMetadata().getGeneration()).isEqualTo(1L);
    }

    @Test
    void batchSizeIsAnIntOrString(KubernetesClient client) {
        GenericKubernetesResource intForm = Serialization.unmarshal(manifest("batch-int", """
                epochs: 1
                globalBatchSize: 128
                batchSize: 64
                """), GenericKubernetesResource.class);
        client.genericKubernetesResources("goodput.dev/v1alpha1", "TrainingJob").inNamespace(ns).resource(intForm).create();
        apply(client, manifest("batch-auto", "epochs: 1\nbatchSize: auto\n"));
        assertThat(client.resources(TrainingJob.class).inNamespace(ns).withName("batch-int").get().getSpec().training.batchSize)
                .isEqualTo("64");
    }

    @Test
    void schemaViolationsAreRefusedNamingTheField(KubernetesClient client) {
        assertThat(refused(client, manifest("bad-epochs", "epochs: 0\n")).getMessage())
                .contains("spec.training.epochs").contains("should be greater than or equal to 1");
        assertThat(refused(client, manifest("bad-precision", "epochs: 1\nprecision: fp8\n")).getMessage())
                .contains("spec.training.precision");
        assertThat(refused(client, manifest("bad-margin", "epochs: 1\nbatchMargin: 0.8\n")).getMessage())
                .contains("spec.training.batchMargin").contains("should be less than or equal to 0.5");
        // Strict field validation, as kubectl does by default: a typo is an error, not a silently pruned field.
        assertThat(refused(client, manifest("unknown-field", "epochs: 1\nepoch: 3\n")).getMessage())
                .contains("unknown field \"spec.training.epoch\"");
    }

    @Test
    void kubectlApplyShowsTheApiserversMessage(TestApiServer api) {
        TestApiServer.Result r = api.kubectlWithInput(manifest("kubectl-bad", "epochs: 1\nglobalBatchSize: 96\nbatchSize: 64\n"),
                "apply", "-n", ns, "-f", "-");
        assertThat(r.exitCode()).as(r.output()).isNotZero();
        assertThat(r.output()).contains("The TrainingJob \"kubectl-bad\" is invalid")
                .contains("spec.training.batchSize: Invalid value")
                .contains("spec.training.batchSize must divide spec.training.globalBatchSize");
        TestApiServer.Result ok = api.kubectlWithInput(manifest("kubectl-good", "epochs: 1\nbatchSize: 32\n"),
                "apply", "-n", ns, "-f", "-");
        assertThat(ok.exitCode()).as(ok.output()).isZero();
        assertThat(ok.output()).contains("trainingjob.goodput.dev/kubectl-good created");
    }

    @Test
    void celRulesRefuseCrossFieldMistakes(KubernetesClient client) {
        assertThat(refused(client, manifest("no-divide", "epochs: 1\nglobalBatchSize: 100\nbatchSize: 64\n")).getMessage())
                .contains("spec.training.batchSize")
                .contains("spec.training.batchSize must divide spec.training.globalBatchSize");
        assertThat(refused(client, manifest("no-divide-int", "epochs: 1\nglobalBatchSize: 100\nbatchSize: \"30\"\n"))
                .getMessage()).contains("must divide spec.training.globalBatchSize");
        assertThat(refused(client, manifest("zero-batch", "epochs: 1\nbatchSize: 0\n")).getMessage())
                .contains("spec.training.batchSize must be auto or a positive integer");
        assertThat(refused(client, manifest("bf16", "epochs: 1\nprecision: bf16\n")).getMessage())
                .contains("spec.training.precision").contains("bf16 is not supported");
        assertThat(refused(client, manifest("no-budget", "globalBatchSize: 64\n")).getMessage())
                .contains("no budget");
        assertThat(refused(client, manifest("zero-lr", "epochs: 1\noptimizer:\n  lr: 0\n")).getMessage())
                .contains("spec.training.optimizer.lr");
    }

    @Test
    void modelAndDataCannotChangeUnderAJob(KubernetesClient client) {
        apply(client, manifest("immutable", "epochs: 1\n"));
        var jobs = client.resources(TrainingJob.class).inNamespace(ns);
        assertThatThrownBy(() -> jobs.withName("immutable").edit(j -> {
            j.getSpec().model.architecture = "mlp";
            return j;
        })).isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.model is immutable");
        assertThatThrownBy(() -> jobs.withName("immutable").edit(j -> {
            j.getSpec().data.trainLimit = 1024;
            return j;
        })).isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.data is immutable");
        // What may change does change.
        TrainingJob edited = jobs.withName("immutable").edit(j -> {
            j.getSpec().suspend = true;
            j.getSpec().training.epochs = 3;
            return j;
        });
        assertThat(edited.getMetadata().getGeneration()).isEqualTo(2L);
    }

    @Test
    void theTrainingTrajectoryChangesOnlyThroughSuspendWhileBudgetsChangeAnyTime(TestApiServer api, KubernetesClient client) {
        apply(client, manifest("trajectory", "epochs: 2\nmaxDuration: 30m\n"));
        var jobs = client.resources(TrainingJob.class).inNamespace(ns);
        // As README says a user meets it.
        TestApiServer.Result patch = api.kubectl("patch", "-n", ns, "trainingjob", "trajectory", "--type", "merge",
                "-p", "{\"spec\":{\"training\":{\"optimizer\":{\"lr\":0.004}}}}");
        assertThat(patch.exitCode()).as(patch.output()).isNotZero();
        assertThat(patch.output()).contains("spec.training: Forbidden")
                .contains("spec.training changes the training trajectory").contains("set spec.suspend: true");
        List<java.util.function.Consumer<dev.goodput.api.spec.TrainingSpec>> trajectory = List.of(
                t -> t.epochs = 3, t -> t.maxSteps = 1000L, t -> t.globalBatchSize = 256, t -> t.batchSize = "64",
                t -> t.seed = 7L, t -> t.threads = 1, t -> t.precision = "fp32", t -> t.gradientClipNorm = 1.0,
                t -> t.optimizer.name = "sgd", t -> t.schedule.warmupSteps = 10, t -> t.memoryBudget = "1Gi");
        for (var edit : trajectory) {
            assertThatThrownBy(() -> jobs.withName("trajectory").edit(j -> {
                edit.accept(j.getSpec().training);
                return j;
            })).isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.training changes the training trajectory");
        }
        // A budget, or which weights are evaluated, changes at any time (the operator applies it at the next attempt).
        assertThat(jobs.withName("trajectory").edit(j -> {
            j.getSpec().training.maxDuration = "1h";
            j.getSpec().training.emaDecay = 0.99;
            j.getSpec().resources.memory = "8Gi";
            return j;
        }).getMetadata().getGeneration()).isEqualTo(2L);
        // Suspend, edit, resume: each step accepted.
        jobs.withName("trajectory").edit(j -> {
            j.getSpec().suspend = true;
            return j;
        });
        jobs.withName("trajectory").edit(j -> {
            j.getSpec().training.optimizer.lr = 0.004;
            return j;
        });
        TrainingJob resumed = jobs.withName("trajectory").edit(j -> {
            j.getSpec().suspend = false;
            return j;
        });
        assertThat(resumed.getSpec().training.optimizer.lr).isEqualTo(0.004);
        assertThatThrownBy(() -> jobs.withName("trajectory").edit(j -> {
            j.getSpec().training.optimizer.lr = 0.002;
            return j;
        })).as("running again").isInstanceOf(KubernetesClientException.class);
    }

    @Test
    void statusIsASubresourceAndPrinterColumnsShowIt(TestApiServer api, KubernetesClient client) {
        TrainingJob job = apply(client, manifest("columns", "epochs: 1\n"));
        job.getStatus().phase = JobPhase.Running;
        job.getStatus().progress = new dev.goodput.api.status.Progress();
        job.getStatus().progress.step = 420;
        job.getStatus().progress.epoch = 1;
        job.getStatus().progress.samplesPerSecond = 1234.5;
        job.getStatus().cost = 0.42;
        client.resources(TrainingJob.class).inNamespace(ns).resource(job).updateStatus();
        // A status change does not bump the generation; a spec write does not touch status.
        TrainingJob back = client.resources(TrainingJob.class).inNamespace(ns).withName("columns").get();
        assertThat(back.getMetadata().getGeneration()).isEqualTo(1L);
        assertThat(back.getStatus().phase).isEqualTo(JobPhase.Running);

        TestApiServer.Result get = api.kubectl("get", "tj", "-n", ns, "columns");
        assertThat(get.exitCode()).as(get.output()).isZero();
        String[] lines = get.output().strip().split("\n");
        assertThat(lines[0].split("\\s+")).containsExactly("NAME", "PHASE", "STEP", "EPOCH", "SAMPLES/S", "COST", "AGE");
        assertThat(lines[1].split("\\s+")).startsWith("columns", "Running", "420", "1", "1234.5", "0.42");
    }
}
