package dev.goodput.trainer.model;

import dev.goodput.api.spec.ModelSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Pre-flight for models that come from files: the pretrained folder holds what a bert-classifier reads, the
 * TorchScript module is a file. Checked before data is loaded or anything allocated, so a wrong path is refused (exit
 * 78) naming the field, on a laptop and in a pod alike.
 */
public final class ModelFiles {
    static final List<String> PRETRAINED = List.of("config.json", "model.safetensors", "tokenizer.json");

    private ModelFiles() {}

    /**
     * As {@link #checkReadable(ModelSpec)}, and gradient checkpointing needs a model made of segments: a TorchScript
     * module in one file is one segment, so it is refused here (exit 78) rather than when the run assembles it.
     */
    public static void checkReadable(ModelSpec spec, boolean gradientCheckpointing) {
        checkReadable(spec);
        if (gradientCheckpointing && spec.torchscript != null && Files.isRegularFile(Path.of(spec.torchscript))) {
            throw new IllegalArgumentException("spec.training.gradientCheckpointing: " + spec.torchscript + " is one"
                    + " TorchScript file, whose layers the trainer cannot run one at a time; give spec.model.torchscript a"
                    + " folder of stages (stage-0.pt, stage-1.pt, ...; examples/torchscript/export_model.py --stages)"
                    + " or switch gradient checkpointing off");
        }
    }

    public static void checkReadable(ModelSpec spec) {
        if (spec.pretrained != null) {
            Path p = Path.of(spec.pretrained);
            if (!Files.isDirectory(p)) {
                throw new IllegalArgumentException("spec.model.pretrained: " + spec.pretrained + (Files.exists(p)
                        ? " is a file; it must be the folder holding " + String.join(", ", PRETRAINED)
                        : " does not exist (the folder holding " + String.join(", ", PRETRAINED) + ")"));
            }
            List<String> missing = PRETRAINED.stream().filter(f -> !Files.isRegularFile(p.resolve(f))).toList();
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("spec.model.pretrained: " + spec.pretrained + " has no "
                        + String.join(", ", missing) + " (a Hugging Face BERT-family checkpoint: " + String.join(", ", PRETRAINED) + ")");
            }
        }
        if (spec.torchscript != null) {
            Path p = Path.of(spec.torchscript);
            // A folder is a model given as stages (stage-0.pt, ...), which the loader checks file by file.
            if (!Files.isRegularFile(p) && !Files.isDirectory(p)) {
                throw new IllegalArgumentException("spec.model.torchscript: " + spec.torchscript + " does not exist (the"
                        + " file torch.jit.save wrote, or a folder of stages stage-0.pt, stage-1.pt, ...)");
            }
        }
    }
}
