package dev.goodput.trainer.distributed;

import java.time.Duration;
import java.util.Map;

/**
 * Where this process stands among the job's processes, from the environment torchrun and Kubeflow Trainer set (and
 * the operator sets on every pod): {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code MASTER_ADDR},
 * {@code MASTER_PORT}. Without {@code WORLD_SIZE}, or with 1, the run is a single process and nothing else is read.
 *
 * <p>Where cluster DNS cannot be relied on, the operator also gives {@code GOODPUT_RENDEZVOUS_FILE}, a file on the job's
 * shared checkpoint volume in which rank 0 publishes its address ({@code GOODPUT_POD_IP}) and the others read it, and
 * MASTER_ADDR is then only the name tools expect.
 *
 * @param timeout        how long rendezvous waits for every rank, and a collective for a peer, before the run ends
 *                       non-zero
 * @param rendezvousFile where rank 0 publishes its address for the others, or null to use MASTER_ADDR
 * @param ownAddress     this process's address for its peers (the pod's IP), or null for what its host name resolves to
 */
public record World(int rank, int size, int localRank, int localSize, String masterAddr, int masterPort, Duration timeout,
                    String rendezvousFile, String ownAddress) {
    public static final int DEFAULT_PORT = 29500;
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);
    /** Seconds a collective may wait for a peer (rendezvous included) before the run gives up. */
    public static final String TIMEOUT_ENV = "GOODPUT_COLLECTIVE_TIMEOUT_SECONDS";

    public static final String RENDEZVOUS_FILE_ENV = "GOODPUT_RENDEZVOUS_FILE";
    public static final String OWN_ADDRESS_ENV = "GOODPUT_POD_IP";

    public static World single() {
        return new World(0, 1, 0, 1, null, DEFAULT_PORT, DEFAULT_TIMEOUT, null, null);
    }

    /** The ranks of one machine, meeting at 127.0.0.1:{@code port} (tests, benchmarks, a laptop). */
    public static World loopback(int rank, int size, int port, Duration timeout) {
        return new World(rank, size, 0, 1, "127.0.0.1", port, timeout, null, null);
    }

    public boolean distributed() {
        return size > 1;
    }

    /** Rank 0 writes checkpoints, the report and the exported model; every rank trains. */
    public boolean leader() {
        return rank == 0;
    }

    /** Parses the environment; a setting that cannot be right is an {@link IllegalArgumentException} naming it. */
    public static World fromEnvironment(Map<String, String> env) {
        int size = integer(env, "WORLD_SIZE", 1);
        if (size < 1) throw new IllegalArgumentException("WORLD_SIZE must be at least 1, got " + size);
        Duration timeout = env.containsKey(TIMEOUT_ENV)
                ? Duration.ofSeconds(integer(env, TIMEOUT_ENV, 0)) : DEFAULT_TIMEOUT;
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException(TIMEOUT_ENV + " must be a positive number of seconds, got " + env.get(TIMEOUT_ENV));
        }
        if (size == 1) return new World(0, 1, 0, 1, null, DEFAULT_PORT, timeout, null, null);
        int rank = integer(env, "RANK", -1);
        if (rank < 0 || rank >= size) {
            throw new IllegalArgumentException("RANK must be set to 0.." + (size - 1) + " with WORLD_SIZE=" + size + ", got "
                    + env.getOrDefault("RANK", "nothing"));
        }
        int localRank = integer(env, "LOCAL_RANK", 0);
        int localSize = integer(env, "LOCAL_WORLD_SIZE", 1);
        if (localRank < 0 || localRank >= localSize) {
            throw new IllegalArgumentException("LOCAL_RANK must be in 0.." + (localSize - 1) + " (LOCAL_WORLD_SIZE="
                    + localSize + "), got " + localRank);
        }
        String addr = env.get("MASTER_ADDR");
        if ((addr == null || addr.isBlank()) && blankToNull(env.get(RENDEZVOUS_FILE_ENV)) == null) {
            throw new IllegalArgumentException("MASTER_ADDR must name rank 0's host with WORLD_SIZE=" + size);
        }
        int port = integer(env, "MASTER_PORT", DEFAULT_PORT);
        if (port < 1 || port > 65535) throw new IllegalArgumentException("MASTER_PORT must be a TCP port, got " + port);
        return new World(rank, size, localRank, localSize, addr, port, timeout, blankToNull(env.get(RENDEZVOUS_FILE_ENV)),
                blankToNull(env.get(OWN_ADDRESS_ENV)));
    }

    private static String blankToNull(String v) {
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static int integer(Map<String, String> env, String name, int otherwise) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return otherwise;
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
        }
    }
}
