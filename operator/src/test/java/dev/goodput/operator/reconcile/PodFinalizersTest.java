package dev.goodput.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.operator.Labels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

class PodFinalizersTest {
    @Test
    void theRemovalTestsTheFinalizerIsStillAtItsIndexBeforeRemovingIt() {
        Pod pod = new PodBuilder().withNewMetadata().withName("p")
                .withFinalizers("example.com/other", Labels.POD_FINALIZER).endMetadata().build();
        assertThat(PodFinalizers.removal(pod).toString()).isEqualTo("[{\"op\":\"test\",\"path\":\"/metadata/finalizers/1\","
                + "\"value\":\"goodput.dev/trainer-pod\"},{\"op\":\"remove\",\"path\":\"/metadata/finalizers/1\"}]");
        assertThat(PodFinalizers.tracked(pod)).isTrue();
        pod.getMetadata().getFinalizers().remove(Labels.POD_FINALIZER);
        assertThat(PodFinalizers.tracked(pod)).isFalse();
    }
}
