package dev.goodput.operator.crd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.harness.Repo;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.crdv2.generator.CustomResourceInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The checked-in CRD must be what the build generates. This runs the generator QOSDK runs at build time
 * (fabric8 crd-generator v2, CRD spec v1, not in parallel, with the post-processor named in application.properties),
 * exactly as QOSDK's CRDGeneratorV2 does, and compares the bytes.
 *
 * <p>To update the checked-in file after changing the API: {@code mvn -pl operator -am test -Dtest=CrdUpToDateTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dgoodput.updateCrds=true}, or copy
 * {@code operator/target/kubernetes/trainingjobs.goodput.dev-v1.yml} (written by {@code mvn package}).
 */
class CrdUpToDateTest {
    static final String FILE = TrainingJob.CRD_NAME + "-v1.yml";

    @Test
    void checkedInCrdMatchesTheGeneratedOne() throws IOException {
        Path out = Files.createDirectories(Path.of("target", "crd-check"));
        new CRDGenerator()
                .withParallelGenerationEnabled(false)
                .withPostProcessor(postProcessorFromApplicationProperties())
                .forCRDVersions(List.of("v1"))
                .inOutputDir(out.toFile())
                .customResources(CustomResourceInfo.fromClass(TrainingJob.class))
                .detailedGenerate();
        String generated = Files.readString(out.resolve(FILE));
        Path checkedIn = Repo.root().resolve("crds").resolve(FILE);
        if (Boolean.getBoolean("goodput.updateCrds")) {
            Files.writeString(checkedIn, generated);
        }
        assertThat(Files.exists(checkedIn)).as("%s exists (run with -Dgoodput.updateCrds=true to create it)", checkedIn)
                .isTrue();
        assertThat(Files.readString(checkedIn))
                .as("crds/%s differs from the CRD generated from the Java types (%s); regenerate it with "
                        + "-Dgoodput.updateCrds=true and review the diff", FILE, out.resolve(FILE))
                .isEqualTo(generated);
    }

    @Test
    void theBuildUsesTheSamePostProcessor() throws IOException {
        assertThat(postProcessorFromApplicationProperties()).isInstanceOf(PrinterColumnOrder.class);
    }

    private static io.fabric8.crdv2.generator.CRDPostProcessor postProcessorFromApplicationProperties() throws IOException {
        Properties p = new Properties();
        try (var in = CrdUpToDateTest.class.getResourceAsStream("/application.properties")) {
            p.load(in);
        }
        String name = p.getProperty("quarkus.operator-sdk.crd.post-processor");
        assertThat(name).as("quarkus.operator-sdk.crd.post-processor in application.properties").isNotBlank();
        try {
            return (io.fabric8.crdv2.generator.CRDPostProcessor) Class.forName(name).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot instantiate " + name, e);
        }
    }
}
