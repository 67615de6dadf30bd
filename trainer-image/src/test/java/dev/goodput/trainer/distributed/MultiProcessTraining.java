package dev.goodput.trainer.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.goodput.trainer.TrainerProcess;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Starts the ranks of one run as real trainer processes on loopback, with the environment torchrun would give them. */
final class MultiProcessTraining implements AutoCloseable {
    final List<TrainerProcess> ranks = new ArrayList<>();

    /**
     * @param checkpoints every rank's checkpoint root (one shared folder, as the pods' shared volume)
     * @param extra       further arguments for every rank (e.g. --set)
     */
    static MultiProcessTraining start(int world, Map<String, String> env, Path manifest, Path checkpoints, Path logs,
                                      String... extra) throws IOException {
        MultiProcessTraining run = new MultiProcessTraining();
        int port = freePort();
        for (int r = 0; r < world; r++) {
            Map<String, String> e = new LinkedHashMap<>(env);
            if (world > 1) {
                e.put("WORLD_SIZE", String.valueOf(world));
                e.put("RANK", String.valueOf(r));
                e.put("LOCAL_RANK", String.valueOf(r));
                e.put("LOCAL_WORLD_SIZE", String.valueOf(world));
                e.put("MASTER_ADDR", "127.0.0.1");
                e.put("MASTER_PORT", String.valueOf(port));
            }
            run.ranks.add(TrainerProcess.start(e, manifest, checkpoints, logs.resolve("term-" + r + ".json"), extra));
        }
        return run;
    }

    TrainerProcess rank(int r) {
        return ranks.get(r);
    }

    /** Every rank's exit code, in rank order. */
    List<Integer> waitFor(long seconds) throws InterruptedException {
        List<Integer> codes = new ArrayList<>();
        for (TrainerProcess p : ranks) codes.add(p.waitFor(seconds));
        return codes;
    }

    String output() {
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < ranks.size(); r++) b.append("--- rank ").append(r).append('\n').append(String.join("\n", ranks.get(r).lines())).append('\n');
        return b.toString();
    }

    @Override
    public void close() {
        ranks.forEach(TrainerProcess::close);
    }

    /** The parameters of the job's latest checkpoint, by name. */
    static Map<String, float[]> latestParameters(Path jobDir) throws IOException {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager()) {
            for (Map.Entry<String, byte[]> e : new CheckpointStore(jobDir, 3).loadLatest().orElseThrow().snapshot().parameters().entrySet()) {
                try (NDArray a = NDArray.decode(m, e.getValue())) {
                    out.put(e.getKey(), a.toFloatArray());
                }
            }
        }
        return out;
    }

    /** The largest, over the parameters, of ||a - b|| / ||b|| (Euclidean norms over each parameter's values). */
    static double largestRelativeDifference(Map<String, float[]> a, Map<String, float[]> b) {
        if (!a.keySet().equals(b.keySet())) throw new AssertionError("different parameters: " + a.keySet() + " vs " + b.keySet());
        double worst = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k);
            float[] y = b.get(k);
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < x.length; i++) {
                diff += (double) (x[i] - y[i]) * (x[i] - y[i]);
                norm += (double) y[i] * y[i];
            }
            worst = Math.max(worst, Math.sqrt(diff / Math.max(norm, 1e-30)));
        }
        return worst;
    }

    /** The largest |a - b| over every parameter value. */
    static double largestAbsoluteDifference(Map<String, float[]> a, Map<String, float[]> b) {
        double worst = 0;
        for (String k : a.keySet()) {
            float[] x = a.get(k);
            float[] y = b.get(k);
            for (int i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
        }
        return worst;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
