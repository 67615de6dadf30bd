package dev.goodput.api;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.TrainingJobStatus;

/**
 * A TrainingJob as a file: what `kubectl apply` sends and what the trainer reads from /etc/goodput/job.yaml or from a
 * local path. Only the metadata fields the trainer uses are modelled; the rest of metadata is ignored on purpose.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingJobManifest {
    public static final String API_VERSION = "goodput.dev/v1alpha1";
    public static final String KIND = "TrainingJob";

    public String apiVersion;
    public String kind;
    public Metadata metadata = new Metadata();
    public TrainingJobSpec spec;
    /** Present when the operator copies a live object; the trainer ignores it. */
    public TrainingJobStatus status;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public static class Metadata {
        public String name;
        public String namespace;
        public String uid;
    }
}
