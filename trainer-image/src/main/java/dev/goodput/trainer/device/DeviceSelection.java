package dev.goodput.trainer.device;

import ai.djl.Device;
import java.util.ArrayList;
import java.util.List;

/**
 * Which devices a run trains on: {@code spec.resources.gpus} GPUs among those CUDA makes visible, else the CPU.
 * Inside a pod the device plugin sets CUDA_VISIBLE_DEVICES to the GPUs it granted, and CUDA renumbers them from 0.
 *
 * @param devices the devices, one replica of the model each
 * @param note    why this choice, when it differs from what was asked
 */
public record DeviceSelection(List<Device> devices, String note) {

    public boolean gpu() {
        return devices.get(0).isGpu();
    }

    public String type() {
        return gpu() ? "cuda" : "cpu";
    }

    /**
     * @param requestedGpus        spec.resources.gpus (null = 0)
     * @param cudaVisibleDevices   the CUDA_VISIBLE_DEVICES variable, null when unset
     * @param gpusTheEngineCounts  Engine.getGpuCount(): GPUs libtorch can use
     */
    public static DeviceSelection select(Integer requestedGpus, String cudaVisibleDevices, int gpusTheEngineCounts) {
        int requested = requestedGpus == null ? 0 : requestedGpus;
        if (requested == 0) return new DeviceSelection(List.of(Device.cpu()), null);
        int visible = Math.min(gpusTheEngineCounts, visibleCount(cudaVisibleDevices, gpusTheEngineCounts));
        if (visible == 0) {
            return new DeviceSelection(List.of(Device.cpu()), "spec.resources.gpus is " + requested
                    + " but no CUDA device is usable (CUDA_VISIBLE_DEVICES=" + cudaVisibleDevices + ", libtorch sees "
                    + gpusTheEngineCounts + "): training on the CPU");
        }
        int n = Math.min(requested, visible);
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < n; i++) devices.add(Device.gpu(i));
        String note = n < requested ? "spec.resources.gpus is " + requested + " but only " + visible + " are visible: using " + n : null;
        return new DeviceSelection(List.copyOf(devices), note);
    }

    /** Entries in CUDA_VISIBLE_DEVICES up to the first invalid one, as CUDA itself reads it; unset means all. */
    static int visibleCount(String cudaVisibleDevices, int all) {
        if (cudaVisibleDevices == null) return all;
        String v = cudaVisibleDevices.trim();
        if (v.isEmpty() || v.equalsIgnoreCase("none") || v.equalsIgnoreCase("void")) return 0;
        int n = 0;
        for (String entry : v.split(",")) {
            String e = entry.trim();
            boolean index = e.matches("[0-9]+");
            boolean uuid = e.matches("(?i)(GPU|MIG)-.+");
            if (!index && !uuid) break; // CUDA stops at the first invalid entry, e.g. -1
            n++;
        }
        return n;
    }
}
