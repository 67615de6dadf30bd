package dev.goodput.trainer.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.trainer.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What can be checked of the trainer images without a Docker engine: the Dockerfiles' build stage produces the jar
 * the final stage copies, the user is not root, the exposed port is the metrics port, and the image's ENTRYPOINT runs
 * the packaged trainer jar on this machine, with the image's environment.
 */
class TrainerImageIT {
    static final Path MODULE = Path.of("").toAbsolutePath();
    static final Path JAR = MODULE.resolve("target/goodput-trainer.jar");

    record Dockerfile(List<String> from, Map<String, String> env, String user, String expose, List<String> entrypoint,
                      List<String> cmd, List<String[]> copies, String workdir) {}

    static Dockerfile parse(Path file) throws Exception {
        List<String> lines = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String l : Files.readAllLines(file)) {
            if (l.startsWith("#") || l.isBlank()) continue;
            if (l.endsWith("\\")) {
                cur.append(l, 0, l.length() - 1).append(' ');
            } else {
                lines.add(cur.append(l).toString().trim());
                cur.setLength(0);
            }
        }
        List<String> from = new ArrayList<>();
        Map<String, String> env = new LinkedHashMap<>();
        String user = null, expose = null, workdir = null;
        List<String> entry = null;
        List<String> cmd = null;
        List<String[]> copies = new ArrayList<>();
        for (String l : lines) {
            String[] kv = l.split("\\s+", 2);
            switch (kv[0]) {
                case "FROM" -> from.add(kv[1]);
                case "ENV" -> {
                    for (String pair : kv[1].trim().split("\\s+")) {
                        String[] p = pair.split("=", 2);
                        env.put(p[0], p[1]);
                    }
                }
                case "USER" -> user = kv[1];
                case "EXPOSE" -> expose = kv[1];
                case "WORKDIR" -> workdir = kv[1];
                case "ENTRYPOINT" -> entry = List.of(new ObjectMapper().readValue(kv[1], String[].class));
                case "CMD" -> cmd = List.of(new ObjectMapper().readValue(kv[1], String[].class));
                case "COPY" -> copies.add(kv[1].split("\\s+"));
                default -> { }
            }
        }
        return new Dockerfile(from, env, user, expose, entry, cmd, copies, workdir);
    }

    @ParameterizedTest
    @ValueSource(strings = {"Dockerfile", "Dockerfile.cpu"})
    void imageRunsThePackagedTrainer(String name, @TempDir Path dir) throws Exception {
        Dockerfile d = parse(MODULE.resolve(name));
        // The jar's build stage first, the runtime stage last; the CUDA image has a stage between them that compiles
        // the c10d binding with NCCL against its own libtorch.
        assertThat(d.from()).hasSize("Dockerfile".equals(name) ? 3 : 2);
        assertThat(d.from().get(0)).endsWith(" AS build");
        assertThat(d.from().get(d.from().size() - 1)).doesNotContain(" AS ");
        if ("Dockerfile".equals(name)) {
            assertThat(d.from().get(1)).endsWith(" AS nccl");
            assertThat(d.copies().stream().filter(c -> c[0].equals("--from=nccl")).map(c -> c[c.length - 1]))
                    .containsExactly(d.env().get("GOODPUT_C10D_NCCL_LIBRARY"));
        }
        assertThat(d.user()).doesNotStartWith("0").isNotEqualTo("root").matches("[0-9]+(:[0-9]+)?");
        assertThat(d.expose()).isEqualTo(d.env().get("GOODPUT_METRICS_PORT"));

        String[] copy = d.copies().stream().filter(c -> c[0].equals("--from=build")).findFirst().orElseThrow();
        assertThat(copy[1]).isEqualTo(d.workdir() + "/trainer-image/target/goodput-trainer.jar");
        assertThat(JAR).as("the build stage's output, built by mvn package").exists();
        String jarInImage = copy[2];
        // The ENTRYPOINT ends at the jar and the arguments are the CMD: a pod's args (the operator passes
        // "run /etc/goodput/job.yaml") replace the CMD, as a container runtime does, rather than follow it twice.
        assertThat(d.entrypoint().get(d.entrypoint().size() - 1)).isEqualTo(jarInImage);
        assertThat(d.cmd()).containsExactly("run", "/etc/goodput/job.yaml");

        // Run ENTRYPOINT + CMD here: image paths mapped to local ones, the image's environment with /tmp made local.
        Path job = Files.writeString(dir.resolve("job.yaml"), TestJobs.yaml("mlp", 640, "maxSteps: 5"));
        List<String> cmd = new ArrayList<>();
        for (String arg : java.util.stream.Stream.concat(d.entrypoint().stream(), d.cmd().stream()).toList()) {
            cmd.add(arg.equals(jarInImage) ? JAR.toString() : arg.equals("/etc/goodput/job.yaml") ? job.toString() : arg);
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        d.env().forEach((k, v) -> pb.environment().put(k, v.replace("/tmp", dir.resolve("tmp").toString())
                .replace("/checkpoints", dir.resolve("checkpoints").toString())));
        if ("Dockerfile".equals(name)) {
            // The CUDA image's libtorch is not on this machine; the CPU libtorch inside the jar stands in for it.
            pb.environment().remove("PYTORCH_LIBRARY_PATH");
            pb.environment().remove("PYTORCH_FLAVOR");
        }
        pb.environment().put("GOODPUT_METRICS_PORT", "0");
        pb.environment().put("GOODPUT_TERMINATION_LOG", dir.resolve("termination-log").toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("model mlp:").contains("budget spent");
        assertThat(dir.resolve("checkpoints/test-job/latest")).exists();
        assertThat(Files.readString(dir.resolve("termination-log"))).contains("\"phase\":\"Succeeded\"");
    }
}
