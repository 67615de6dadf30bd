package dev.goodput.trainer.data;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Training micro-batches in order, prepared by {@code workers} threads up to {@code prefetch} batches ahead of the
 * training thread. The order never depends on timing: batch k is always the same examples, whichever worker builds it.
 * With no workers, batches are built on the calling thread (the naive baseline, and the fallback).
 */
public final class BatchPipeline implements MicroBatches, AutoCloseable {
    private final BatchAssembler assembler;
    private final long seed;
    private final int micro;
    private final int accumulation;
    private final int globalBatch;
    private final int offset;
    private final int prefetch;
    private final ExecutorService pool;
    private final ArrayDeque<CompletableFuture<Loaded>> ahead = new ArrayDeque<>();

    private DataPosition cursor;
    private int microInStep;
    private int cachedEpoch = -1;
    private int[] cachedOrder;

    /** A micro-batch and where it came from. {@code stepEnd} marks the last micro-batch of an optimizer step. */
    public record Loaded(HostBatch batch, int epoch, boolean stepEnd, DataPosition next) {}

    public BatchPipeline(BatchAssembler assembler, long seed, int micro, int accumulation, DataPosition start,
                         int workers, int prefetch) {
        this(assembler, seed, micro, accumulation, DataShard.WHOLE, start, workers, prefetch);
    }

    /**
     * @param shard which slice of each global batch ({@code micro x accumulation x shard.ranks()} examples) this process
     *              reads; {@link DataShard#WHOLE} for a single process
     */
    public BatchPipeline(BatchAssembler assembler, long seed, int micro, int accumulation, DataShard shard,
                         DataPosition start, int workers, int prefetch) {
        long global = (long) micro * accumulation * shard.ranks();
        if (global > assembler.examples().size()) {
            throw new IllegalArgumentException("spec.training.globalBatchSize: " + global
                    + " is larger than the " + assembler.examples().size() + " training examples");
        }
        this.assembler = assembler;
        this.seed = seed;
        this.micro = micro;
        this.accumulation = accumulation;
        this.globalBatch = (int) global;
        this.offset = shard.offset(micro * accumulation);
        this.cursor = start;
        this.prefetch = workers == 0 ? 0 : Math.max(1, prefetch);
        AtomicInteger n = new AtomicInteger();
        this.pool = workers == 0 ? null : Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "goodput-loader-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < this.prefetch; i++) ahead.add(submit());
    }

    /** The next micro-batch; blocks while the workers are behind (that wait is the data-wait the trainer measures). */
    @Override
    public Loaded next() {
        if (pool == null) return build(plan());
        ahead.add(submit());
        try {
            return ahead.poll().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for data", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("loader failed: " + e.getCause(), e.getCause());
        }
    }

    private record Planned(int[] order, int from, int epoch, boolean stepEnd, DataPosition next) {}

    /** Decides which examples the next micro-batch holds; runs on the calling thread so the order is sequential. */
    private Planned plan() {
        int size = assembler.examples().size();
        if (cachedEpoch != cursor.epoch()) {
            cachedOrder = EpochOrder.permutation(seed, cursor.epoch(), size);
            cachedEpoch = cursor.epoch();
        }
        int from = cursor.index() + offset + microInStep * micro;
        boolean stepEnd = ++microInStep == accumulation;
        DataPosition start = cursor;
        if (stepEnd) {
            microInStep = 0;
            cursor = cursor.advance(globalBatch, size);
        }
        return new Planned(cachedOrder, from, start.epoch(), stepEnd, cursor);
    }

    private Loaded build(Planned p) {
        return new Loaded(assembler.assemble(p.order(), p.from(), micro, p.epoch(), true), p.epoch(), p.stepEnd(), p.next());
    }

    private CompletableFuture<Loaded> submit() {
        Planned p = plan();
        return CompletableFuture.supplyAsync(() -> build(p), pool);
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
