package dev.goodput.operator.harness;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stand-in kubelet's path rewriting and $(VAR) expansion, without an apiserver. */
class StandInKubeletPathsTest {
    static StandInKubelet.RunningPod pod() {
        var rp = new StandInKubelet.RunningPod("ns", "p", "uid", "c", "img", Path.of("/tmp/work/pod"));
        rp.mounts.put("/tmp", Path.of("/tmp/work/pod/volumes/tmp"));
        rp.mounts.put("/etc/goodput", Path.of("/tmp/work/pod/volumes/config"));
        rp.mounts.put("/checkpoints", Path.of("/tmp/work/claims/ns/ckpt"));
        rp.terminationPath = "/dev/termination-log";
        rp.terminationFile = Path.of("/tmp/work/pod/termination-log");
        return rp;
    }

    @Test
    void mountPathsAreRewrittenOnceAndOnlyAsWholePathPrefixes() {
        var rp = pod();
        assertThat(StandInKubelet.rewrite("/etc/goodput/job.yaml", rp)).isEqualTo("/tmp/work/pod/volumes/config/job.yaml");
        // A host folder under /tmp is not rewritten again by the /tmp mount.
        assertThat(StandInKubelet.rewrite("/tmp", rp)).isEqualTo("/tmp/work/pod/volumes/tmp");
        assertThat(StandInKubelet.rewrite("--dir=/checkpoints/x --log /dev/termination-log", rp))
                .isEqualTo("--dir=/tmp/work/claims/ns/ckpt/x --log /tmp/work/pod/termination-log");
        // Not a prefix of a longer name, not inside another path.
        assertThat(StandInKubelet.rewrite("/checkpointsX /data/checkpoints /etc/goodput2", rp))
                .isEqualTo("/checkpointsX /data/checkpoints /etc/goodput2");
    }

    @Test
    void kubernetesVariableExpansion() {
        Map<String, String> env = Map.of("A", "1", "B", "two");
        assertThat(StandInKubelet.expand("$(A)-$(B)-$(C)", env)).isEqualTo("1-two-$(C)");
        assertThat(StandInKubelet.expand("$$(A) $$ $", env)).isEqualTo("$(A) $ $");
    }
}
