package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class DataSpec {
    public static final String DEFAULT_PATH = "/usr/share/datasets/fashion-mnist";

    @Pattern("^(idx|csv|imagefolder)$")
    @JsonPropertyDescription("idx (MNIST/Fashion-MNIST files), csv (label first, then features), imagefolder (train/<class>/*.png, test/<class>/*.png).")
    public String format = "idx";

    @JsonPropertyDescription("Folder holding the data, on the local disk or inside the pod.")
    public String path = DEFAULT_PATH;

    @JsonPropertyDescription("PersistentVolumeClaim mounted read-only at path in the trainer pod.")
    public String claimName;

    @Min(1)
    @JsonPropertyDescription("Use only the first N training examples (a slice for quick runs and tests).")
    public Integer trainLimit;

    @Min(1)
    @JsonPropertyDescription("Use only the first N test examples.")
    public Integer testLimit;

    @JsonPropertyDescription("Input pipeline: worker threads and prefetch depth.")
    public LoaderSpec loader = new LoaderSpec();

    @JsonPropertyDescription("Training-time augmentation.")
    public AugmentSpec augment = new AugmentSpec();

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class LoaderSpec {
        @Min(0)
        @JsonPropertyDescription("Threads preparing batches; 0 prepares them on the training thread; absent = auto.")
        public Integer workers;

        @Min(0)
        @JsonPropertyDescription("Batches prepared ahead of the training step; absent = auto.")
        public Integer prefetch;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class AugmentSpec {
        @Min(0)
        @JsonPropertyDescription("Pad by this many pixels and crop back at a random offset; 0 = off.")
        public Integer randomCropPadding;

        @JsonPropertyDescription("Mirror half of the images left-right.")
        public Boolean horizontalFlip;
    }
}
