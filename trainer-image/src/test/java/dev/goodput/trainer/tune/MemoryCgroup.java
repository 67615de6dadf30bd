package dev.goodput.trainer.tune;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * A memory cgroup with a hard limit, as a container's: the kernel's OOM killer ends a process in it that goes over.
 * Made under this process's own memory cgroup (v1 {@code memory.limit_in_bytes}, or v2 {@code memory.max} where the
 * parent delegates the memory controller) and removed on close. {@link #create} is empty where the machine does not
 * let this process make one (no root, no memory controller), and says why.
 */
final class MemoryCgroup implements AutoCloseable {
    private final Path dir;
    private final boolean v2;

    private MemoryCgroup(Path dir, boolean v2) {
        this.dir = dir;
        this.v2 = v2;
    }

    record Attempt(Optional<MemoryCgroup> cgroup, String why) {}

    static Attempt create(long limitBytes) {
        String name = "goodput-test-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
                String[] f = line.split(":", 3);
                if (f.length == 3 && List.of(f[1].split(",")).contains("memory")) {
                    Path parent = Path.of("/sys/fs/cgroup/memory" + f[2]);
                    if (!Files.isWritable(parent)) return new Attempt(Optional.empty(), parent + " is not writable");
                    Path dir = Files.createDirectory(parent.resolve(name));
                    MemoryCgroup cg = new MemoryCgroup(dir, false);
                    Files.writeString(dir.resolve("memory.limit_in_bytes"), String.valueOf(limitBytes));
                    Path swap = dir.resolve("memory.memsw.limit_in_bytes");
                    if (Files.exists(swap)) Files.writeString(swap, String.valueOf(limitBytes));
                    return new Attempt(Optional.of(cg), "");
                }
            }
            Path unified = Path.of("/sys/fs/cgroup");
            if (Files.exists(unified.resolve("cgroup.controllers"))) {
                String self = Files.readAllLines(Path.of("/proc/self/cgroup")).stream().filter(l -> l.startsWith("0::"))
                        .findFirst().map(l -> l.substring(3)).orElse("/");
                Path parent = Path.of(unified + self);
                if (!Files.readString(parent.resolve("cgroup.subtree_control")).contains("memory")) {
                    return new Attempt(Optional.empty(), parent + " does not delegate the memory controller");
                }
                Path dir = Files.createDirectory(parent.resolve(name));
                MemoryCgroup cg = new MemoryCgroup(dir, true);
                Files.writeString(dir.resolve("memory.max"), String.valueOf(limitBytes));
                Files.writeString(dir.resolve("memory.swap.max"), "0");
                return new Attempt(Optional.of(cg), "");
            }
            return new Attempt(Optional.empty(), "no memory cgroup controller on this machine");
        } catch (IOException | RuntimeException e) {
            return new Attempt(Optional.empty(), "cannot make a memory cgroup: " + e);
        }
    }

    /** A command prefix that moves the shell into this cgroup before it execs the command after it. */
    List<String> wrapper() {
        return List.of("/bin/sh", "-c", "echo $$ > " + dir.resolve("cgroup.procs") + " && exec \"$@\"", "sh");
    }

    /** The most memory the cgroup's processes held at once (v1 max_usage, v2 peak where the kernel has it), or -1. */
    long peakBytes() {
        Path f = dir.resolve(v2 ? "memory.peak" : "memory.max_usage_in_bytes");
        try {
            return Files.exists(f) ? Long.parseLong(Files.readString(f).trim()) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** How many processes the kernel's OOM killer ended in this cgroup (v1 memory.oom_control, v2 memory.events). */
    long oomKills() {
        Path f = dir.resolve(v2 ? "memory.events" : "memory.oom_control");
        try {
            return Files.readAllLines(f).stream().filter(l -> l.startsWith("oom_kill ")).mapToLong(l -> Long.parseLong(l.substring(9).trim()))
                    .findFirst().orElse(0);
        } catch (IOException e) {
            return -1;
        }
    }

    @Override
    public void close() throws IOException {
        // A cgroup can only be removed once it holds no process; the trainer has exited by now.
        Files.deleteIfExists(dir);
    }
}
