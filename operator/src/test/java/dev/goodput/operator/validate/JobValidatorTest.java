package dev.goodput.operator.validate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.spec.TargetSpec;
import dev.goodput.operator.TrainingJob;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import org.junit.jupiter.api.Test;

/**
 * What the operator refuses of a spec that reached it. The installed CRD may be older than the operator (Helm never
 * upgrades a CRD), so the apiserver may have let through what this version's rules refuse: the operator runs its own
 * CRD's rules and reports the same field, before any claim is looked up (no client is needed for that verdict).
 */
class JobValidatorTest {
    static TrainingJob job() {
        TrainingJob job = new TrainingJob();
        job.setMetadata(new ObjectMetaBuilder().withName("j").withNamespace("ns").withGeneration(1L).build());
        job.setSpec(new dev.goodput.api.spec.TrainingJobSpec());
        job.getSpec().training.epochs = 1;
        return job;
    }

    @Test
    void aSpecThisVersionsCrdRefusesIsInvalidNamingTheField() {
        TrainingJob job = job();
        job.getSpec().model.width = 0;
        job.getSpec().training.optimizer.beta1 = 1.0;
        JobValidator.Result r = new JobValidator().validate(job, null);
        assertThat(r.reason()).isEqualTo("InvalidSpec");
        assertThat(r.problems()).anySatisfy(p -> assertThat(p).startsWith("spec.model.width: must be >= 1"))
                .anySatisfy(p -> assertThat(p).startsWith("spec.training.optimizer.beta1: must be < 1"));
    }

    @Test
    void aCelRuleOfThisVersionIsRunToo() {
        TrainingJob job = job();
        job.getSpec().training.epochs = null;
        JobValidator.Result r = new JobValidator().validate(job, null);
        assertThat(r.problems()).anySatisfy(p -> assertThat(p).startsWith("spec: no budget"));
        job.getSpec().target = new TargetSpec();
        job.getSpec().target.metric = "accuracy";
        job.getSpec().target.value = 0.9;
        assertThat(new JobValidator().validate(job, null).problems()).noneSatisfy(p -> assertThat(p).startsWith("spec: no budget"));
    }

    @Test
    void whatTheCrdCannotSayIsCheckedAfterIt() {
        TrainingJob job = job();
        job.getSpec().training.maxDuration = "0s";
        assertThat(new JobValidator().validate(job, null).problems()).containsExactly("spec.training.maxDuration: must be more than 0");
    }

    @Test
    void aGangsNameMustMakeDnsLabelsOfItsServiceAndHostnames() {
        assertThat(JobValidator.gangName("a".repeat(47))).as("<name>-<attempt>-<rank> fits 63").isEmpty();
        assertThat(JobValidator.gangName("fashion-mnist-ddp")).isEmpty();
        assertThat(JobValidator.gangName("a".repeat(48))).singleElement()
                .satisfies(p -> assertThat(p).startsWith("metadata.name: with spec.resources.workers > 1"));
        assertThat(JobValidator.gangName("3d-unet")).as("a Service name starts with a letter").hasSize(1);
        assertThat(JobValidator.gangName("mnist.v2")).as("no dots in a DNS label").hasSize(1);
    }
}
