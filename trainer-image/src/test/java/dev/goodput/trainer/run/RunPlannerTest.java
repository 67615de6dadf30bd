package dev.goodput.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.TrainingJobManifest;
import dev.goodput.api.ExitCodes;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.config.BatchChoice;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.device.DeviceSelection;
import dev.goodput.trainer.loop.TrainingLoop;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The planner's rules as tables: every default the trainer applies, from the manifest and the machine. */
class RunPlannerTest {
    static final RunPlanner.Machine CPU = new RunPlanner.Machine(2, DeviceSelection.select(0, null, 0), () -> 80L << 30,
            () -> 3L << 30);

    static TrainingJobManifest job(String extra) {
        return TestJobs.manifest(TestJobs.yaml("cnn", 6400, "maxSteps: 100\n" + extra));
    }

    @ParameterizedTest(name = "precision {0} on {1} GPU(s) -> {2}")
    @CsvSource({
            "auto, 0, fp32", "fp32, 0, fp32", "fp16, 0, fp16",
            "auto, 1, fp16", "fp32, 1, fp32", "fp16, 1, fp16",
            // Mixed precision across several devices is not implemented: the plan says so and trains in fp32.
            "auto, 2, fp32", "fp16, 2, fp32"})
    void precisionFollowsTheDevices(String requested, int gpus, String planned) {
        TrainingJobManifest m = job("precision: " + requested);
        DeviceSelection devices = DeviceSelection.select(gpus, null, gpus);
        RunPlan plan = RunPlanner.plan(m.spec, null, new RunPlanner.Machine(2, devices, () -> 80L << 30, () -> -1));
        assertThat(plan.precision()).isEqualTo(planned);
        assertThat(plan.notes().stream().anyMatch(n -> n.startsWith("fp16 with several devices"))).isEqualTo(gpus > 1 && !"fp32".equals(requested));
        assertThat(plan.notes().stream().anyMatch(n -> n.startsWith("precision fp16 on CPU"))).isEqualTo(gpus == 0 && "fp16".equals(requested));
    }

    @ParameterizedTest(name = "{0} with precision {1} on {2} GPU(s) -> {3} on {4} device(s)")
    @CsvSource({
            "torchscript, auto, 1, fp32, 1", "torchscript, fp16, 1, fp32, 1", "torchscript, auto, 4, fp32, 1",
            "bert-classifier, auto, 1, fp32, 1", "bert-classifier, auto, 2, fp32, 1", "bert-classifier, fp32, 0, fp32, 1",
            "cnn, auto, 2, fp32, 2"})
    void modelsTheTrainerDoesNotBuildTrainInFp32OnOneDevice(String architecture, String precision, int gpus,
                                                            String planned, int devices) {
        TrainingJobManifest m = job("precision: " + precision);
        m.spec.model.architecture = architecture;
        RunPlan plan = RunPlanner.plan(m.spec, null, new RunPlanner.Machine(2, DeviceSelection.select(gpus, null, gpus),
                () -> 80L << 30, () -> -1));
        assertThat(plan.precision()).isEqualTo(planned);
        assertThat(plan.devices().devices()).hasSize(devices);
        assertThat(plan.notes().stream().anyMatch(n -> n.startsWith("fp16 is not yet supported for " + architecture)))
                .isEqualTo(!"cnn".equals(architecture) && gpus > 0 && !"fp32".equals(precision));
        assertThat(plan.notes().stream().anyMatch(n -> n.startsWith(architecture + " trains on one device")))
                .isEqualTo(!"cnn".equals(architecture) && gpus > 1);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "name: adamw                            | adamw | 0.9 | 0.999 | 1e-8 | 0.9 | false | 0.01",
            "name: adamw; beta1: 0.8; weightDecay: 0 | adamw | 0.8 | 0.999 | 1e-8 | 0.9 | false | 0",
            "name: sgd                              | sgd   | 0.9 | 0.999 | 1e-8 | 0.9 | false | 0",
            "name: sgd; momentum: 0.5; nesterov: true | sgd   | 0.9 | 0.999 | 1e-8 | 0.5 | true  | 0"})
    void optimizerDefaultsArePyTorchs(String optimizer, String name, double beta1, double beta2, double eps, double momentum,
                                       boolean nesterov, double weightDecay) {
        String yaml = TestJobs.yaml("cnn", 6400, "maxSteps: 100")
                .replace("name: adamw\n", String.join("\n      ", optimizer.split("; ")) + "\n");
        RunPlan plan = RunPlanner.plan(TestJobs.manifest(yaml).spec, null, CPU);
        assertThat(plan.optimizer().name()).isEqualTo(name);
        assertThat(plan.optimizer().beta1()).isEqualTo(beta1);
        assertThat(plan.optimizer().beta2()).isEqualTo(beta2);
        assertThat(plan.optimizer().eps()).isEqualTo(eps);
        assertThat(plan.optimizer().momentum()).isEqualTo(momentum);
        assertThat(plan.optimizer().nesterov()).isEqualTo(nesterov);
        assertThat(plan.optimizer().weightDecay()).isEqualTo(weightDecay);
    }

    @ParameterizedTest(name = "{0} -> {1} from {2}")
    @CsvSource(delimiter = '|', value = {
            "memoryBudget: 1Gi | 1073741824 | spec.training.memoryBudget",
            "''                | 3221225472 | the container's memory limit"})
    void theMemoryBudgetNamesItsSource(String extra, long bytes, String source) {
        RunPlan plan = RunPlanner.plan(job(extra).spec, null, CPU);
        assertThat(plan.budget()).isEqualTo(new MemoryBudget(bytes, source));
        RunPlan gpu = RunPlanner.plan(job("").spec, null, new RunPlanner.Machine(2, DeviceSelection.select(1, null, 1),
                () -> 80L << 30, () -> 3L << 30));
        assertThat(gpu.budget()).isEqualTo(new MemoryBudget(80L << 30, "the GPU's memory"));
        // Two trainer processes in one container share its memory; each of two on GPUs has a device of its own.
        RunPlan shared = RunPlanner.plan(job(extra).spec, null, new RunPlanner.Machine(2, DeviceSelection.select(0, null, 0),
                () -> 0, () -> 3L << 30, 2));
        assertThat(shared.budget()).isEqualTo(new MemoryBudget(bytes / 2, source + ", shared by 2 processes"));
        RunPlan gpus = RunPlanner.plan(job("").spec, null, new RunPlanner.Machine(2, DeviceSelection.select(1, null, 1),
                () -> 80L << 30, () -> 3L << 30, 2));
        assertThat(gpus.budget()).isEqualTo(new MemoryBudget(80L << 30, "the GPU's memory"));
    }

    @Test
    void theGracePeriodIsThePodsThenTheManifestsThenKubernetesDefault() {
        TrainingJobManifest m = job("");
        assertThat(RunPlanner.grace(null, m.spec)).isEqualTo(RunPlanner.DEFAULT_GRACE).isEqualTo(Duration.ofSeconds(30));
        m.spec.checkpoint.gracePeriodSeconds = 90;
        assertThat(RunPlanner.grace(null, m.spec)).isEqualTo(Duration.ofSeconds(90));
        assertThat(RunPlanner.grace(Duration.ofSeconds(45), m.spec)).isEqualTo(Duration.ofSeconds(45));
    }

    @Test
    void threadsSeedLoaderAndRetentionDefault() {
        RunPlan plan = RunPlanner.plan(TestJobs.manifest(TestJobs.yaml("cnn", 6400, "maxSteps: 100")
                .replace("    seed: 7\n    threads: 1\n", "")).spec, null, CPU);
        assertThat(plan.threads()).isEqualTo(2);
        assertThat(plan.seed()).isEqualTo(RunPlanner.DEFAULT_SEED);
        assertThat(plan.loaderWorkers()).isEqualTo(1);
        assertThat(plan.prefetch()).isEqualTo(4);
        assertThat(plan.checkpointKeep()).isEqualTo(3);
        assertThat(plan.metricName()).isEqualTo("accuracy");
    }

    @ParameterizedTest(name = "global {0} as {1} x {2}, reference {3} -> peak lr {4}")
    @CsvSource({"64, 64, 1, 64, 0.002", "64, 32, 2, 64, 0.002", "64, 32, 4, 64, 0.004", "64, 16, 2, 128, 0.0005"})
    void thePeakLearningRateScalesWithTheGlobalBatchTheStepsRun(int spec, int micro, int accumulation, int reference,
                                                                double peak) {
        TrainingJobManifest m = job("referenceBatchSize: " + reference);
        RunPlan plan = RunPlanner.plan(m.spec, null, CPU);
        TrainingPlan steps = RunPlanner.steps(m.spec, plan, 6400, new BatchChoice(micro, accumulation, "fixed"));
        assertThat(steps.globalBatch()).isEqualTo(micro * accumulation);
        assertThat(steps.schedule().peak()).isCloseTo(peak, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(steps.seed()).isEqualTo(plan.seed());
        assertThat(steps.threads()).isEqualTo(plan.threads());
    }

    @ParameterizedTest(name = "{0}, checkpointed {1} -> exit {2}")
    @CsvSource({"TARGET_REACHED, true, 0", "BUDGET_SPENT, true, 0", "PATIENCE_EXHAUSTED, true, 0", "PREEMPTED, true, 75",
            "TARGET_REACHED, false, 74", "PREEMPTED, false, 74", "CHECKPOINTS_FAILING, false, 74"})
    void theExitCodeIsDecidedByWhatIsDurable(TrainingLoop.Reason reason, boolean checkpointed, int exit) {
        assertThat(RunConclusion.exitCode(new TrainingLoop.Outcome(reason, null, 0, checkpointed))).isEqualTo(exit);
        assertThat(ExitCodes.PREEMPTED).isEqualTo(75);
        assertThat(ExitCodes.CHECKPOINT_FAILED).isEqualTo(74);
    }

    @ParameterizedTest(name = "{0} batch, peak share {1} -> return freed memory: {2}")
    @CsvSource({"tuned, 0.5, false", "tuned, 0.9, true", "cache, , true", "checkpoint, , true"})
    void theNativeHeapKeepsFreedMemoryOnlyWithRoomUnderACpuBudget(String source, Double share, boolean returns) {
        BatchPlanner.Decision d = new BatchPlanner.Decision(new BatchChoice(64, 2, source), "key", Optional.ofNullable(share));
        assertThat(NativeHeapPolicy.returnReason(false, d).isPresent()).isEqualTo(returns);
        assertThat(NativeHeapPolicy.returnReason(true, d)).as("on a GPU").isEmpty();
        assertThat(NativeHeapPolicy.returnReason(false, new BatchPlanner.Decision(new BatchChoice(64, 2, "fixed"), null,
                Optional.empty()))).as("no budget").isEmpty();
    }
}
