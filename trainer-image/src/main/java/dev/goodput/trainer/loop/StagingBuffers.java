package dev.goodput.trainer.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.goodput.trainer.data.HostBatch;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Turns host batches into input and label NDArrays through two direct buffers reused from batch to batch. DJL's
 * {@code NDManager.create(FloatBuffer)} copies a heap array into a new direct buffer every time, which Java zeroes
 * first and frees only when the GC collects it; for a 128-image batch that is 400 KB zeroed, copied and left for the
 * GC per step. libtorch reads a direct buffer in place (from_blob), so an array made here shows whatever the buffer
 * holds: it is valid until the next call, which is how the training step and the evaluator use it (one batch's
 * forward and backward end before the next batch is staged). Not thread-safe; one per training thread.
 */
public final class StagingBuffers {
    private ByteBuffer features = allocate(0);
    private ByteBuffer labels = allocate(0);

    /** The batch's inputs as a float32 array of {@code shape}, valid until the next call. */
    public NDArray features(NDManager manager, HostBatch batch, Shape shape) {
        float[] x = batch.x();
        features = fit(features, (long) x.length * Float.BYTES);
        features.asFloatBuffer().put(x);
        return manager.create(features, shape, DataType.FLOAT32);
    }

    /** The batch's class indices as an int64 vector, valid until the next call. */
    public NDArray labels(NDManager manager, HostBatch batch) {
        long[] y = batch.y();
        labels = fit(labels, (long) y.length * Long.BYTES);
        labels.asLongBuffer().put(y);
        return manager.create(labels, new Shape(y.length), DataType.INT64);
    }

    /** {@code buffer}, or a larger one, with position 0 and exactly {@code bytes} remaining. */
    private static ByteBuffer fit(ByteBuffer buffer, long bytes) {
        int size = Math.toIntExact(bytes);
        ByteBuffer b = buffer.capacity() >= size ? buffer : allocate(size);
        b.clear().limit(size);
        return b;
    }

    private static ByteBuffer allocate(int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
    }
}
