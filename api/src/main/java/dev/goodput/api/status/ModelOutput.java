package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The trained model a job leaves behind, written when training ends (target, budget or epochs; not on preemption,
 * which leaves a checkpoint instead): where it is, in which documented format (docs/trainer.md, "The trained model"),
 * and its hash, so it can be served or fine-tuned further and compared with another run by one value.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelOutput {
    /** The folder holding the model's files, under the job's checkpoint folder. */
    public String path;
    /** {@code djl} (DJL parameters + model.json: the architecture, classes and input) or {@code torchscript} (model.pt). */
    public String format;
    /** Step of the weights. */
    public long step;
    /** Bytes of the model's files together. */
    public long bytes;
    /** SHA-256 of the main weights file (model.params or model.pt). */
    public String sha256;
}
