package dev.goodput.api.validation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The packaged CRD's schema and CEL rules, run locally. The verdicts are held equal to the real apiserver's by the
 * operator's BadManifestCorpusTest; this test pins the wording and the mechanics (types by schema, transition rules
 * skipped, a rule that cannot compile refused at load).
 */
class CrdRulesTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static final String BASE = """
            apiVersion: goodput.dev/v1alpha1
            kind: TrainingJob
            metadata: {name: t}
            spec:
              model: {architecture: cnn}
              training: {epochs: 1, globalBatchSize: 128, batchSize: auto, optimizer: {name: adamw, lr: 0.001}}
            """;

    static JsonNode with(String path, String yamlValue) throws Exception {
        JsonNode tree = YAML.readTree(BASE);
        String[] parts = path.split("\\.");
        var node = (com.fasterxml.jackson.databind.node.ObjectNode) tree;
        for (int i = 0; i < parts.length - 1; i++) {
            node = node.has(parts[i]) ? (com.fasterxml.jackson.databind.node.ObjectNode) node.get(parts[i]) : node.putObject(parts[i]);
        }
        node.set(parts[parts.length - 1], YAML.readTree(yamlValue));
        return tree;
    }

    @Test
    void theBaseManifestPasses() throws Exception {
        assertThat(CrdRules.trainingJob().check(YAML.readTree(BASE))).isEmpty();
    }

    static Stream<Arguments> problems() {
        return Stream.of(
                Arguments.of("spec.model.width", "0", "spec.model.width: must be >= 1, got 0"),
                Arguments.of("spec.model.width", "2048", "spec.model.width: must be <= 1024, got 2048"),
                Arguments.of("spec.model.architecture", "vgg", "spec.model.architecture: \"vgg\" is not one of mlp, cnn, resnet20, resnet18, resnet50"),
                Arguments.of("spec.training.gradientClipNorm", "0", "spec.training.gradientClipNorm: must be > 0"),
                Arguments.of("spec.training.optimizer.beta1", "1", "spec.training.optimizer.beta1: must be < 1"),
                Arguments.of("spec.training.emaDecay", "1", "spec.training.emaDecay: must be < 1"),
                Arguments.of("spec.training.maxDuration", "ten minutes", "spec.training.maxDuration: \"ten minutes\" is not a duration such as 90s, 30m or 1h30m"),
                Arguments.of("spec.resources.memory", "lots", "spec.resources.memory: \"lots\" is not a quantity such as 500m, 2, 512Mi or 4Gi"),
                Arguments.of("spec.training.batchSize", "\"48\"", "spec.training.batchSize: must divide spec.training.globalBatchSize; pick a divisor or use auto"),
                Arguments.of("spec.training.precision", "bf16", "spec.training.precision: bf16 is not supported"),
                Arguments.of("spec.training.optimizer.lr", "0", "spec.training.optimizer.lr: must be > 0"),
                Arguments.of("spec.target", "{metric: accuracy, value: 1.5}", "spec.target.value: accuracy is a share in (0, 1]"),
                Arguments.of("spec.target", "{value: 0.9}", "spec.target.metric: missing"));
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("problems")
    void eachProblemNamesTheFieldAndWhatIsExpected(String path, String value, String expected) throws Exception {
        List<String> found = CrdRules.trainingJob().check(with(path, value));
        assertThat(found).anySatisfy(p -> assertThat(p).startsWith(expected));
    }

    /** A job with {@code resources} and {@code checkpoint} (YAML flow maps, or null) and {@code training}. */
    static JsonNode workers(String training, String resources, String checkpoint) throws Exception {
        return YAML.readTree("""
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata: {name: t}
                spec:
                  model: {architecture: cnn}
                  training: %s
                  resources: %s
                %s""".formatted(training, resources, checkpoint == null ? "" : "  checkpoint: " + checkpoint + "\n"));
    }

    static Stream<Arguments> workerRules() {
        String claim = "{claimName: shared}";
        String epochs = "{epochs: 1}";
        String needsClaim = "spec.resources.workers: > 1 needs spec.checkpoint.claimName";
        String unequal = "spec.training.globalBatchSize: (default 128) must be divisible by";
        return Stream.of(
                Arguments.of("one worker, the operator's claim", epochs, "{workers: 1}", null, null),
                Arguments.of("two workers on the operator's claim", epochs, "{workers: 2}", null, needsClaim),
                Arguments.of("two workers on a named claim", epochs, "{workers: 2}", claim, null),
                Arguments.of("64 workers share 128", epochs, "{workers: 64}", claim, null),
                Arguments.of("65 workers", "{epochs: 1, globalBatchSize: 130}", "{workers: 65}", claim,
                        "spec.resources.workers: must be <= 64"),
                Arguments.of("0 workers", epochs, "{workers: 0}", claim, "spec.resources.workers: must be >= 1"),
                Arguments.of("3 workers and the default global batch of 128", epochs, "{workers: 3}", claim, unequal),
                Arguments.of("3 workers and a global batch of 96", "{epochs: 1, globalBatchSize: 96}", "{workers: 3}",
                        claim, null),
                Arguments.of("4 workers x 8 GPUs share 128", epochs, "{workers: 4, gpus: 8}", claim, null),
                Arguments.of("4 workers x 3 GPUs cannot share 64", "{epochs: 1, globalBatchSize: 64}",
                        "{workers: 4, gpus: 3}", claim, unequal),
                Arguments.of("one worker with 3 GPUs and 128, as before workers existed", epochs, "{gpus: 3}", null, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("workerRules")
    void severalWorkersNeedASharedClaimAndAGlobalBatchTheirRanksShareEqually(String what, String training,
            String resources, String checkpoint, String expected) throws Exception {
        List<String> found = CrdRules.trainingJob().check(workers(training, resources, checkpoint));
        if (expected == null) {
            assertThat(found).isEmpty();
        } else {
            assertThat(found).singleElement().satisfies(p -> assertThat(p).startsWith(expected));
        }
    }

    @Test
    void aNumberWrittenAsAnIntegerIsANumberToTheRules() throws Exception {
        // value: 1 is the double 1.0 to CEL (the schema says number), so "self.value > 0.0" compares, not errors.
        assertThat(CrdRules.trainingJob().check(with("spec.target", "{metric: accuracy, value: 1}"))).isEmpty();
        assertThat(CrdRules.trainingJob().check(with("spec.target", "{metric: accuracy, value: 2}")))
                .containsExactly("spec.target.value: accuracy is a share in (0, 1]");
    }

    @Test
    void aJobWithoutAnyBudgetIsRefusedAtTheSpec() throws Exception {
        JsonNode tree = YAML.readTree(BASE);
        ((com.fasterxml.jackson.databind.node.ObjectNode) tree.get("spec").get("training")).remove("epochs");
        assertThat(CrdRules.trainingJob().check(tree)).singleElement().asString().startsWith("spec: no budget");
    }

    @Test
    void nullFieldsArePrunedAsTheApiserverPrunesThem() throws Exception {
        assertThat(CrdRules.trainingJob().check(with("spec.model.width", "null"))).isEmpty();
    }

    @Test
    void transitionRulesAreCompiledButOnlyCreateRulesRun() {
        CelRuleCheck.Counts counts = CrdRules.trainingJob().celRules();
        assertThat(counts.onCreate()).isGreaterThanOrEqualTo(6);
        assertThat(counts.onUpdateOnly()).isEqualTo(4); // model, data, training, managedBy are guarded by oldSelf
    }

    /** A CRD whose only version's openAPIV3Schema is an object carrying {@code extra} (YAML lines, 8 spaces in). */
    static JsonNode crdWithSchema(String extra) throws Exception {
        return YAML.readTree("""
                spec:
                  versions:
                  - schema:
                      openAPIV3Schema:
                        type: object
                """ + extra);
    }

    @Test
    void aCrdWithARuleThatDoesNotCompileIsRefusedWhenLoaded() throws Exception {
        JsonNode crd = crdWithSchema("""
                        x-kubernetes-validations:
                        - rule: "self.spec.quantity('1Gi') > 0"
                """);
        assertThatThrownBy(() -> CrdRules.of(crd)).hasMessageContaining("does not compile");
    }

    @Test
    void aCrdWithAKeywordThisCheckWouldIgnoreIsRefusedWhenLoaded() throws Exception {
        JsonNode crd = crdWithSchema("""
                        x-kubernetes-something-new: true
                """);
        assertThatThrownBy(() -> CrdRules.of(crd)).hasMessageContaining("x-kubernetes-something-new");
    }

    @Test
    void patternsAreSaidInWords() {
        assertThat(OpenApiSchemaCheck.patternInWords("^(idx|csv|imagefolder)$")).isEqualTo("one of idx, csv, imagefolder");
        assertThat(OpenApiSchemaCheck.patternInWords("^[a-z]+$")).isEqualTo("of the form ^[a-z]+$");
    }
}
