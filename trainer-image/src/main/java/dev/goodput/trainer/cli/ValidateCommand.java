package dev.goodput.trainer.cli;

import dev.goodput.api.ExitCodes;
import dev.goodput.api.ManifestException;
import dev.goodput.api.ManifestReader;
import dev.goodput.api.TrainingJobManifest;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.model.ModelFiles;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "validate", description = "Checks a TrainingJob manifest and its data path without training.")
final class ValidateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JOB.yaml", description = "TrainingJob manifest")
    Path manifest;

    @Option(names = "--set", paramLabel = "PATH=VALUE", description = "Override a field, e.g. spec.training.epochs=1")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Override
    public Integer call() {
        try {
            TrainingJobManifest m = ManifestReader.read(manifest, overrides);
            ModelFiles.checkReadable(m.spec.model, Boolean.TRUE.equals(m.spec.training.gradientCheckpointing));
            DataSource.checkReadable(m.spec.data);
            System.out.println(manifest + ": valid TrainingJob " + (m.metadata.name == null ? "" : m.metadata.name));
            return ExitCodes.FINISHED;
        } catch (ManifestException e) {
            System.err.println(e.getMessage());
            return ExitCodes.CONFIG_ERROR;
        } catch (IllegalArgumentException e) {
            System.err.println("invalid TrainingJob " + manifest + ":\n  - " + e.getMessage());
            return ExitCodes.CONFIG_ERROR;
        }
    }
}
