package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class DataSpec {
    public static final String DEFAULT_PATH = "/usr/share/datasets/fashion-mnist";

    @Pattern("^(idx|csv|imagefolder|textcsv|textfolder)$")
    @JsonPropertyDescription("idx (MNIST/Fashion-MNIST files), csv (label first, then features), imagefolder (train/<class>/*.png,"
            + " test/<class>/*.png); text for bert-classifier: textcsv (train.csv and test.csv with a header naming a text and a"
            + " label column), textfolder (train/<class>/*.txt, test/<class>/*.txt, one example per file).")
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

    @JsonPropertyDescription("Text formats: columns, sequence length and padding.")
    public TextSpec text;

    /** True for the formats that hold text, which only a text model can read. */
    public static boolean isText(String format) {
        return "textcsv".equals(format) || "textfolder".equals(format);
    }

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

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class TextSpec {
        @Size(min = 1, max = 256)
        @JsonPropertyDescription("textcsv: the header name of the text column (default text).")
        public String textColumn;

        @Size(min = 1, max = 256)
        @JsonPropertyDescription("textcsv: the header name of the label column (default label); labels are any strings,"
                + " classes are their sorted distinct values in train.csv.")
        public String labelColumn;

        @Min(8)
        @Max(512)
        @JsonPropertyDescription("Tokens per example at most, [CLS] and [SEP] included; longer texts are truncated (default 128).")
        public Integer maxLength;

        @Pattern("^(longest|max)$")
        @JsonPropertyDescription("longest (default): each batch is padded to its longest example, rounded up to a multiple of 8;"
                + " max: every batch is padded to maxLength (fixed shapes).")
        public String padding;

        public String textColumnOrDefault() {
            return textColumn == null ? "text" : textColumn;
        }

        public String labelColumnOrDefault() {
            return labelColumn == null ? "label" : labelColumn;
        }

        public int maxLengthOrDefault() {
            return maxLength == null ? 128 : maxLength;
        }

        public boolean padToLongest() {
            return padding == null || "longest".equals(padding);
        }
    }
}
