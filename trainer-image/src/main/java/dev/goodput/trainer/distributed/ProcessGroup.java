package dev.goodput.trainer.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;

/**
 * The ranks of one run, joined through PyTorch's c10d: a TCPStore served by rank 0 at MASTER_ADDR:MASTER_PORT and a
 * Gloo process group over it. Its collectives work in place on DJL's tensors and return when every rank has the
 * result; a lost or stalled peer makes them throw {@link CollectiveFailure}. Every rank must make the same calls in
 * the same order.
 */
public final class ProcessGroup implements AutoCloseable {
    /** Gradients are reduced in buckets of this size, as DDP's default (25 MiB). */
    public static final long BUCKET_BYTES = 25L << 20;
    /** Gloo's network device: an interface by name, as torch.distributed reads it. */
    static final String INTERFACE_ENV = "GLOO_SOCKET_IFNAME";

    private final World world;
    private final String backend;
    private long handle;

    private ProcessGroup(World world, long handle, String backend) {
        this.world = world;
        this.handle = handle;
        this.backend = backend;
    }

    /** Gloo or NCCL. */
    public String backend() {
        return backend;
    }

    /**
     * Joins the group: rank 0 serves the store and waits for the others, who retry connecting until the timeout, so the
     * ranks may start in any order and before rank 0's name resolves.
     */
    public static ProcessGroup join(World world, String glooInterface) {
        return join(world, glooInterface, -1);
    }

    /**
     * @param cudaDevice the GPU this process trains on, whose gradients NCCL reduces when the binding has it (the CUDA
     *                   image); -1 on CPU, where Gloo does
     */
    public static ProcessGroup join(World world, String glooInterface, int cudaDevice) {
        C10d.load(cudaDevice >= 0);
        boolean nccl = cudaDevice >= 0 && C10d.hasNccl();
        String iface = glooInterface == null ? "" : glooInterface;
        String master = world.masterAddr();
        int port = world.masterPort();
        if (world.rendezvousFile() != null) {
            Path file = Path.of(world.rendezvousFile());
            if (world.leader()) {
                master = world.ownAddress() != null ? world.ownAddress() : master;
                if (master == null) throw new IllegalArgumentException(World.OWN_ADDRESS_ENV + " or MASTER_ADDR must give rank 0's address");
                RendezvousFile.publish(file, master, port);
            } else {
                String[] published = RendezvousFile.await(file, world.timeout());
                master = published[0];
                port = Integer.parseInt(published[1]);
            }
        }
        // Gloo binds to: the interface named, else loopback when the ranks meet on loopback (one machine), else this
        // process's own address when it is given (a pod's IP), else what the host name resolves to.
        String deviceHost = !iface.isEmpty() ? "" : loopback(master) ? "127.0.0.1"
                : world.ownAddress() != null ? world.ownAddress() : "";
        long handle = C10d.connect(master, port, world.rank(), world.size(), world.timeout().toMillis(), deviceHost, iface,
                nccl, Math.max(0, cudaDevice));
        return new ProcessGroup(world, handle, nccl ? "NCCL" : "Gloo");
    }

    public World world() {
        return world;
    }

    /** Every rank's arrays become the mean over ranks. */
    public void allReduceMean(List<NDArray> arrays) {
        C10d.allReduce(open(), handles(arrays), 0, world.size(), BUCKET_BYTES);
    }

    /** Every rank's arrays become rank {@code root}'s. */
    public void broadcast(List<NDArray> arrays, int root) {
        C10d.broadcast(open(), handles(arrays), root, BUCKET_BYTES);
    }

    /** Element-wise sum over ranks of a few numbers. */
    public double[] sum(double... values) {
        return C10d.reduceValues(open(), values, 0);
    }

    /** Element-wise maximum over ranks of a few numbers. */
    public double[] max(double... values) {
        return C10d.reduceValues(open(), values, 1);
    }

    public void barrier() {
        C10d.barrier(open());
    }

    @Override
    public void close() {
        if (handle != 0) C10d.close(handle);
        handle = 0;
    }

    private long open() {
        if (handle == 0) throw new IllegalStateException("the process group is closed");
        return handle;
    }

    private static long[] handles(List<NDArray> arrays) {
        long[] h = new long[arrays.size()];
        for (int i = 0; i < h.length; i++) h[i] = ((PtNDArray) arrays.get(i)).getHandle();
        return h;
    }

    static boolean loopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
