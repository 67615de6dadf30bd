package dev.goodput.trainer.device;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import org.junit.jupiter.api.Test;

class DeviceSelectionTest {

    @Test
    void noGpusRequestedMeansTheCpu() {
        assertThat(DeviceSelection.select(0, "0,1", 2).devices()).containsExactly(Device.cpu());
        assertThat(DeviceSelection.select(null, null, 8).type()).isEqualTo("cpu");
    }

    @Test
    void requestedGpusAmongTheVisibleOnes() {
        DeviceSelection s = DeviceSelection.select(2, "3,5", 2);
        assertThat(s.devices()).containsExactly(Device.gpu(0), Device.gpu(1));
        assertThat(s.note()).isNull();
        assertThat(s.type()).isEqualTo("cuda");
        assertThat(DeviceSelection.select(4, null, 8).devices()).hasSize(4);
        assertThat(DeviceSelection.select(1, "GPU-8f3c2a1e-1111-2222-3333-444455556666", 1).devices()).containsExactly(Device.gpu(0));
    }

    @Test
    void fewerVisibleThanRequestedUsesWhatIsThereAndSaysSo() {
        DeviceSelection s = DeviceSelection.select(4, "0,1", 2);
        assertThat(s.devices()).hasSize(2);
        assertThat(s.note()).contains("spec.resources.gpus is 4 but only 2 are visible");
    }

    @Test
    void noUsableGpuFallsBackToTheCpuWithAReason() {
        DeviceSelection s = DeviceSelection.select(1, null, 0);
        assertThat(s.devices()).containsExactly(Device.cpu());
        assertThat(s.note()).contains("no CUDA device is usable");
        assertThat(DeviceSelection.select(1, "", 4).gpu()).isFalse();
        assertThat(DeviceSelection.select(1, "-1", 4).gpu()).isFalse();
    }

    @Test
    void cudaStopsReadingAtTheFirstInvalidEntry() {
        assertThat(DeviceSelection.visibleCount("0,2,-1,3", 4)).isEqualTo(2);
        assertThat(DeviceSelection.visibleCount(" 1 , 2 ", 4)).isEqualTo(2);
        assertThat(DeviceSelection.visibleCount("MIG-GPU-abc/1/0", 4)).isEqualTo(1);
    }
}
