package dev.goodput.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The c10d binding on loopback: real TCPStore rendezvous and Gloo collectives between ranks, here threads of one JVM
 * (each with its own process group, as separate processes would have); the trainer's multi-process tests run ranks as
 * processes.
 */
class ProcessGroupTest {
    private static final ExecutorService RANKS = Executors.newCachedThreadPool();

    @AfterAll
    static void stop() {
        RANKS.shutdownNow();
    }

    @Test
    void oneLibtorchIsMappedAndItIsTheVersionTheBindingWasBuiltFor() {
        C10d.load(false);
        assertThat(C10d.hasNccl()).as("the CPU build has Gloo only").isFalse();
        assertThat(C10d.mappedLibtorch()).hasSize(1);
        assertThat(C10d.builtForTorch()).isEqualTo(ai.djl.engine.Engine.getEngine("PyTorch").getVersion());
    }

    @Test
    void allReduceMeanAveragesEveryArrayInPlaceAcrossBuckets() throws Exception {
        int world = 3;
        // Shapes mixed so that several arrays share a bucket and one (7 M floats, 28 MB) is a bucket alone.
        long[][] shapes = {{3, 4}, {5}, {7_000_000}, {2, 2, 2}, {1}};
        List<float[][]> results = onRanks(world, Duration.ofSeconds(30), group -> {
            try (NDManager m = NDManager.newBaseManager()) {
                List<NDArray> arrays = new ArrayList<>();
                for (int i = 0; i < shapes.length; i++) {
                    NDArray a = m.arange(0f, (float) new Shape(shapes[i]).size()).reshape(shapes[i])
                            .mul(group.world().rank() + 1).add(i);
                    arrays.add(a);
                }
                NDArray view = arrays.get(0).get("0"); // a view must see the result: it is reduced in place
                group.allReduceMean(arrays);
                float[][] out = new float[shapes.length + 1][];
                for (int i = 0; i < shapes.length; i++) out[i] = arrays.get(i).toFloatArray();
                out[shapes.length] = view.toFloatArray();
                return out;
            }
        });
        // mean over ranks of (x * (r + 1) + i) = x * 2 + i for three ranks
        for (float[][] r : results) {
            for (int i = 0; i < shapes.length; i++) {
                float[] got = r[i];
                for (int k = 0; k < got.length; k += Math.max(1, got.length / 1000)) {
                    float want = k * 2f + i; // exact below 2^24; above it the sum of three floats rounds
                    assertThat(got[k]).isCloseTo(want, org.assertj.core.data.Offset.offset(want * 1e-6f));
                }
            }
            assertThat(r[shapes.length]).containsExactly(0f, 2f, 4f, 6f);
        }
        assertThat(results.get(1)[2]).isEqualTo(results.get(0)[2]); // every rank holds the same bits
    }

    @Test
    void broadcastGivesEveryRankTheRootsValuesAndSumAndMaxReduceNumbers() throws Exception {
        List<double[]> results = onRanks(2, Duration.ofSeconds(30), group -> {
            try (NDManager m = NDManager.newBaseManager()) {
                int r = group.world().rank();
                NDArray a = m.create(new float[] {r, r + 10f});
                group.broadcast(List.of(a), 0);
                double[] sum = group.sum(r + 1, 10 * r);
                double[] max = group.max(r, -r);
                group.barrier();
                float[] b = a.toFloatArray();
                return new double[] {b[0], b[1], sum[0], sum[1], max[0], max[1]};
            }
        });
        for (double[] r : results) assertThat(r).containsExactly(0, 10, 3, 10, 1, 0);
    }

    @Test
    void aPeerThatLeavesMakesTheOthersCollectiveFailPromptly() throws Exception {
        int port = MultiProcessTraining.freePort();
        Duration timeout = Duration.ofSeconds(60);
        CompletableFuture<ProcessGroup> rank1 = CompletableFuture.supplyAsync(
                () -> ProcessGroup.join(World.loopback(1, 2, port, timeout), null), RANKS);
        try (ProcessGroup rank0 = ProcessGroup.join(World.loopback(0, 2, port, timeout), null);
             NDManager m = NDManager.newBaseManager()) {
            rank1.get().close(); // the peer's process group goes away, as when its process is killed
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> rank0.allReduceMean(List.of(m.ones(new Shape(1000)))))
                    .isInstanceOf(CollectiveFailure.class).hasMessageContaining("c10d all-reduce failed");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
        }
    }

    @Test
    void ranksFindRankZeroThroughTheRendezvousFileWhenTheNameDoesNotResolve(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        int port = MultiProcessTraining.freePort();
        String file = dir.resolve("c10d/attempt-2").toString();
        List<CompletableFuture<Double>> ranks = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            // MASTER_ADDR as the operator gives it, a DNS name no server here answers; the address comes from the file.
            World w = new World(r, 2, 0, 1, "job-2-0.job-workers.invalid", port, Duration.ofSeconds(30), file, "127.0.0.1");
            ranks.add(CompletableFuture.supplyAsync(() -> {
                try (ProcessGroup g = ProcessGroup.join(w, null)) {
                    return g.sum(w.rank() + 1.0)[0];
                }
            }, RANKS));
        }
        for (CompletableFuture<Double> f : ranks) assertThat(f.get()).isEqualTo(3.0);
        assertThat(java.nio.file.Files.readString(java.nio.file.Path.of(file)).trim()).isEqualTo("127.0.0.1:" + port);
    }

    /** Runs {@code body} as every rank of a fresh group on loopback; results in rank order. */
    private static <T> List<T> onRanks(int world, Duration timeout, Function<ProcessGroup, T> body) throws Exception {
        int port = MultiProcessTraining.freePort();
        List<CompletableFuture<T>> ranks = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            World w = World.loopback(r, world, port, timeout);
            ranks.add(CompletableFuture.supplyAsync(() -> {
                try (ProcessGroup g = ProcessGroup.join(w, null)) {
                    return body.apply(g);
                }
            }, RANKS));
        }
        List<T> out = new ArrayList<>();
        for (CompletableFuture<T> f : ranks) out.add(f.get());
        return out;
    }
}
