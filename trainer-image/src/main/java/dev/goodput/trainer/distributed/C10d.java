package dev.goodput.trainer.distributed;

import ai.djl.engine.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * The JNI binding to PyTorch's c10d (src/main/native/c10d_jni.cpp): TCPStore rendezvous, the Gloo process group and
 * its collectives on DJL's tensors (a PtNDArray's handle is a {@code torch::Tensor*}). Callers use
 * {@link ProcessGroup}, not these methods.
 *
 * <p>The library links libtorch by soname and must bind to the copy DJL loaded, so it is loaded only after the PyTorch
 * engine, and refused if the process then maps two libtorch_cpu.so or if DJL's libtorch is not the version the binding
 * was compiled against: a mismatch would corrupt memory rather than fail.
 */
final class C10d {
    static final String RESOURCE = "/native/linux-x86_64/libgoodput_c10d.so";
    /** An explicit path to the library, for images that ship it outside the jar. */
    static final String LIBRARY_ENV = "GOODPUT_C10D_LIBRARY";
    /** The CUDA image's build of the binding, with NCCL beside Gloo (build.sh --nccl); used by runs on GPUs. */
    static final String NCCL_LIBRARY_ENV = "GOODPUT_C10D_NCCL_LIBRARY";

    private static boolean loaded;

    private C10d() {}

    /** @param gpu the run trains on GPUs: the NCCL build is loaded when the image has one */
    static synchronized void load(boolean gpu) {
        if (loaded) return;
        Engine engine = Engine.getEngine("PyTorch"); // loads libtorch first: the binding resolves against it
        String nccl = System.getenv(NCCL_LIBRARY_ENV);
        Path library = gpu && nccl != null && Files.isRegularFile(Path.of(nccl)) ? Path.of(nccl) : locate();
        System.load(library.toString());
        String built = builtForTorch();
        if (!built.equals(engine.getVersion())) {
            throw new IllegalStateException("the c10d binding was built for torch " + built + " but DJL loaded torch "
                    + engine.getVersion() + "; rebuild the trainer (trainer-image/src/main/native/build.sh)");
        }
        List<String> copies = mappedLibtorch();
        if (copies.size() != 1) {
            throw new IllegalStateException("the c10d binding needs exactly one libtorch_cpu.so in the process, found " + copies);
        }
        loaded = true;
    }

    private static Path locate() {
        String explicit = System.getenv(LIBRARY_ENV);
        if (explicit != null && !explicit.isBlank()) return Path.of(explicit);
        try (InputStream in = C10d.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("this trainer was built without the c10d binding (Linux x86-64 only), so it"
                        + " cannot train across processes; run one worker or use the Linux x86-64 image");
            }
            Path dir = Files.createTempDirectory("goodput-c10d");
            // deleteOnExit deletes in the reverse order of registration: the directory is registered first so that it goes last
            dir.toFile().deleteOnExit();
            Path file = dir.resolve("libgoodput_c10d.so");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return file;
        } catch (IOException e) {
            throw new IllegalStateException("cannot unpack the c10d binding: " + e.getMessage(), e);
        }
    }

    /** The distinct libtorch_cpu.so files this process maps (from /proc/self/maps). */
    static List<String> mappedLibtorch() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.map(l -> l.substring(l.lastIndexOf(' ') + 1))
                    .filter(p -> p.endsWith("/libtorch_cpu.so")).distinct().toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/maps: " + e.getMessage(), e);
        }
    }

    static native String builtForTorch();

    /** Whether the loaded binding has NCCL (the CUDA image's build). */
    static native boolean hasNccl();

    /** Rendezvous and a process group (Gloo, or NCCL on CUDA device {@code cudaDevice}); returns its handle. */
    static native long connect(String host, int port, int rank, int size, long timeoutMs, String deviceHost,
                               String deviceInterface, boolean nccl, int cudaDevice);

    static native void close(long group);

    /** op: 0 sum, 1 max, 2 min; the result divided by {@code divisor}, in place. */
    static native void allReduce(long group, long[] tensors, int op, double divisor, long bucketBytes);

    static native void broadcast(long group, long[] tensors, int root, long bucketBytes);

    static native double[] reduceValues(long group, double[] values, int op);

    static native void barrier(long group);
}
