package dev.goodput.trainer.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times the binding's all-reduce as the trainer uses it, for bench/c10d: one rank of a group set up from the usual
 * environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), float32 sums of the sizes given as arguments (elements),
 * each timed {@code REPS} times after warm-up; prints one line per size with the median in milliseconds (rank 0).
 * A size written {@code N/k} is N elements in k tensors (bucketed as the trainer buckets gradients).
 */
public final class AllReduceTimer {
    static final int REPS = 10;
    static final int WARMUP = 3;

    private AllReduceTimer() {}

    public static void main(String[] args) {
        World world = World.fromEnvironment(System.getenv());
        try (ProcessGroup group = ProcessGroup.join(world, System.getenv(ProcessGroup.INTERFACE_ENV));
             NDManager manager = NDManager.newBaseManager()) {
            for (String size : args) {
                String[] parts = size.split("/");
                long elements = Long.parseLong(parts[0]);
                int tensors = parts.length > 1 ? Integer.parseInt(parts[1]) : 1;
                List<NDArray> arrays = new ArrayList<>();
                for (int i = 0; i < tensors; i++) arrays.add(manager.ones(new Shape(elements / tensors)));
                double[] ms = new double[REPS];
                for (int r = -WARMUP; r < REPS; r++) {
                    group.barrier();
                    long t0 = System.nanoTime();
                    group.allReduceMean(arrays);
                    if (r >= 0) ms[r] = (System.nanoTime() - t0) / 1e6;
                }
                Arrays.sort(ms);
                if (world.leader()) {
                    System.out.printf(Locale.ROOT, "allreduce %s elements=%d tensors=%d median_ms=%.3f%n", size, elements,
                            tensors, (ms[REPS / 2 - 1] + ms[REPS / 2]) / 2);
                }
                arrays.forEach(NDArray::close);
            }
        }
    }
}
