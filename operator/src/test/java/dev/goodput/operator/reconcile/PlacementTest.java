package dev.goodput.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.spec.ResourcesSpec;
import dev.goodput.operator.OperatorSettings.Scheduling;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Where spec.resources.gpuType, spot and nodeSelector put a trainer pod, for the default and a provider's labels. */
class PlacementTest {
    static final Scheduling GKE = new Scheduling("cloud.google.com/gke-accelerator", Map.of("cloud.google.com/gke-spot", "true"),
            List.of(new Toleration("NoSchedule", "cloud.google.com/gke-spot", "Equal", null, "true")));
    static final Scheduling PRICE_ONLY = new Scheduling(null, Map.of(), List.of());

    static ResourcesSpec resources(String gpuType, Boolean spot, Map<String, String> nodeSelector) {
        ResourcesSpec r = new ResourcesSpec();
        r.gpuType = gpuType;
        r.spot = spot;
        r.nodeSelector = nodeSelector;
        return r;
    }

    static Stream<Arguments> placements() {
        return Stream.of(
                Arguments.of("nothing asked", resources(null, null, null), Scheduling.defaults(), null),
                Arguments.of("gpuType", resources("nvidia-h100-80gb", null, null), Scheduling.defaults(),
                        Map.of("goodput.dev/gpu-type", "nvidia-h100-80gb")),
                Arguments.of("spot", resources(null, true, null), Scheduling.defaults(), Map.of("goodput.dev/capacity-type", "spot")),
                Arguments.of("spot false", resources(null, false, null), Scheduling.defaults(), null),
                Arguments.of("both, provider labels", resources("nvidia-l4", true, null), GKE,
                        Map.of("cloud.google.com/gke-accelerator", "nvidia-l4", "cloud.google.com/gke-spot", "true")),
                Arguments.of("the job's own selector wins on a shared key", resources("nvidia-l4", true,
                        Map.of("cloud.google.com/gke-accelerator", "nvidia-l4-custom", "zone", "a")), GKE,
                        Map.of("cloud.google.com/gke-accelerator", "nvidia-l4-custom", "cloud.google.com/gke-spot", "true", "zone", "a")),
                Arguments.of("label none: gpuType only prices", resources("nvidia-h100-80gb", true, null), PRICE_ONLY, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("placements")
    void nodeSelector(String what, ResourcesSpec res, Scheduling scheduling, Map<String, String> expected) {
        assertThat(JobResources.nodeSelector(res, scheduling)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("placements")
    void spotJobsGetTheSpotTolerationsOnce(String what, ResourcesSpec res, Scheduling scheduling, Map<String, String> ignored) {
        List<Toleration> t = JobResources.tolerations(res, scheduling);
        if (Boolean.TRUE.equals(res.spot) && !scheduling.spotTolerations().isEmpty()) {
            assertThat(t).containsExactlyElementsOf(scheduling.spotTolerations());
        } else {
            assertThat(t).isNull();
        }
    }
}
