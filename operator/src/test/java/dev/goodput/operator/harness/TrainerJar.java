package dev.goodput.operator.harness;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The real trainer, as the stand-in kubelet runs it for the trainer image: {@code java -jar goodput-trainer.jar}.
 * {@code GOODPUT_TRAINER_JAR} names the jar; by default {@code trainer-image/target/goodput-trainer.jar}
 * ({@code mvn -pl trainer-image -am package -DskipTests}). Missing, it is an error that says so, not a skip.
 */
public final class TrainerJar {
    public static final String ENV = "GOODPUT_TRAINER_JAR";

    private TrainerJar() {}

    public static Path locate() {
        String env = System.getenv(ENV);
        Path jar = env != null && !env.isBlank() ? Path.of(env)
                : Repo.root().resolve("trainer-image").resolve("target").resolve("goodput-trainer.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("The trainer jar " + jar + " is missing: these tests run the real trainer."
                    + " Build it with `mvn -B -pl trainer-image -am package -DskipTests`, or set " + ENV + ".");
        }
        return jar;
    }

    public static List<String> entrypoint() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return List.of(java.toString(), "-Xmx1g", "-jar", locate().toString());
    }
}
