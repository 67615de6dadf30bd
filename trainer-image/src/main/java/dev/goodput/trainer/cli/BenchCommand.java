package dev.goodput.trainer.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.spec.DataSpec;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.data.EpochOrder;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.HostBatch;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.data.BatchPipeline;
import dev.goodput.trainer.data.DataPosition;
import dev.goodput.trainer.data.MicroBatches;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.metrics.ProcessMemory;
import dev.goodput.trainer.run.GradientSources;
import dev.goodput.trainer.loop.TrainingStep;
import dev.goodput.trainer.optim.LrSchedule;
import dev.goodput.trainer.model.ModelFactory;
import dev.goodput.trainer.optim.AdamW;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainer bench}: steady-state training throughput of the trainer's own step ({@code loop/TrainingStep}, as the
 * training loop runs it, with fp32, no accumulation, no clipping), for comparison with bench/throughput/pytorch_reference.py.
 * Host batches are assembled before the clock starts (both sides do the same), so the figure is the compute of a step:
 * host batch into the staging buffers, forward, loss, backward, AdamW, the gradients reset (zeroed, or for the MLP
 * written over by the next step), the step's NDScope closed.
 * Prints one JSON line.
 */
@Command(name = "bench", description = "Times steady-state training steps of a model on Fashion-MNIST; prints one JSON line.")
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--model", description = "mlp (784-256-128-10), cnn (width 32), resnet20 (width 16) on Fashion-MNIST,"
            + " or bert-classifier (--pretrained on --text-data)", defaultValue = "mlp")
    String model;

    @Option(names = "--pretrained", description = "bert-classifier: the pretrained model's folder", defaultValue = "goodput-data/all-minilm-l6-v2")
    String pretrained;

    @Option(names = "--text-data", description = "bert-classifier: a textcsv folder (train.csv, test.csv)", defaultValue = "goodput-data/rotten-tomatoes")
    String textData;

    @Option(names = "--seq", description = "bert-classifier: tokens per example, every batch padded to it", defaultValue = "128")
    int seq;

    @Option(names = "--lora", description = "bert-classifier: LoRA rank on query and value (alpha 16, dropout 0.1); 0 = full fine-tune", defaultValue = "0")
    int lora;

    @Option(names = "--checkpointing", description = "bert-classifier: gradient checkpointing (recompute each layer in backward)")
    boolean checkpointing;

    @Option(names = "--autograd-step", description = "mlp: train through DJL's blocks and autograd instead of the MLP's one-graph step (model/mlp), to compare the two")
    boolean autogradStep;

    @Option(names = "--width", description = "cnn, resnet20: the model's width instead of its benchmark default (32, 16)")
    Integer width;

    @Option(names = "--batch", description = "Batch size", defaultValue = "128")
    int batch;

    @Option(names = "--threads", description = "libtorch intra-op threads (JniUtils.setNumThreads)", defaultValue = "2")
    int threads;

    @Option(names = "--interop-threads", description = "libtorch inter-op threads (default: libtorch's own)")
    Integer interopThreads;

    @Option(names = "--steps", description = "Timed steps", defaultValue = "100")
    int steps;

    @Option(names = "--warmup", description = "Untimed steps before timing", defaultValue = "20")
    int warmup;

    @Option(names = "--seed", description = "Seed for the model init and the example order", defaultValue = "42")
    long seed;

    @Option(names = "--data", description = "Fashion-MNIST IDX folder", defaultValue = DataSpec.DEFAULT_PATH)
    String data;

    @Option(names = "--assemble-per-step", description = "Assemble each host batch (normalise, copy) inside the timed step")
    boolean assemblePerStep;

    @Option(names = "--profile", description = "Write libtorch's operator profile of the timed steps (Chrome trace JSON) to this file")
    String profile;

    @Override
    public Integer call() throws Exception {
        if (batch < 1 || steps < 1 || warmup < 0 || threads < 1) {
            System.err.println("bench: --batch, --steps and --threads must be >= 1, --warmup >= 0");
            return ExitCodes.CONFIG_ERROR;
        }
        ModelSpec spec = new ModelSpec();
        spec.architecture = model;
        DataSpec dataSpec = new DataSpec();
        dataSpec.path = data;
        switch (model) {
            case "mlp" -> spec.hiddenLayers = List.of(256, 128);
            case "cnn" -> spec.width = width == null ? 32 : width;
            case "resnet20" -> spec.width = width == null ? 16 : width;
            case "bert-classifier" -> {
                spec.pretrained = pretrained;
                if (lora > 0) {
                    spec.lora = new ModelSpec.LoraSpec();
                    spec.lora.rank = lora;
                }
                dataSpec.format = "textcsv";
                dataSpec.path = textData;
                dataSpec.text = new DataSpec.TextSpec();
                dataSpec.text.maxLength = seq;
                dataSpec.text.padding = "max"; // every batch the same shape, as the PyTorch peer pads them
            }
            default -> {
                System.err.println("bench: --model must be mlp, cnn, resnet20 or bert-classifier, got " + model);
                return ExitCodes.CONFIG_ERROR;
            }
        }
        ExampleSet train = DataSource.load(dataSpec, spec.pretrained).train();
        Normalization norm = Normalization.of(train);
        BatchAssembler assembler = new BatchAssembler(train, norm, null, seed);
        int[] order = EpochOrder.permutation(seed, 0, train.size());
        int perEpoch = train.size() / batch;
        // Distinct batches held in memory and cycled: a whole epoch, or as many as the run uses.
        int pool = assemblePerStep ? 0 : Math.min(perEpoch, warmup + steps);
        HostBatch[] batches = new HostBatch[pool];
        for (int i = 0; i < pool; i++) batches[i] = assembler.assemble(order, i * batch, batch, 0, false);

        Engine engine = Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(threads);
        if (interopThreads != null) JniUtils.setNumInteropThreads(interopThreads);
        engine.setRandomSeed((int) seed);
        long timedNanos;
        String gradientSource;
        long parameters = 0;
        int tensors = 0;
        try (NDManager manager = NDManager.newBaseManager(engine.defaultDevice(), engine.getEngineName())) {
            Block block = ModelFactory.create(spec, train, manager).block();
            for (var p : block.getParameters()) {
                if (p.getValue().requiresGradient()) {
                    parameters += p.getValue().getArray().size();
                    tensors++;
                }
            }
            // The trainer's own step, as the training loop runs it (fp32, no accumulation, no clipping, constant lr).
            ParameterStore ps = new ParameterStore(manager, false);
            GradientSource gradients = autogradStep ? new GradientAccumulator(block, ps)
                    : GradientSources.forModel(block, ps, checkpointing, false);
            gradientSource = gradients.getClass().getSimpleName();
            TrainingStep trainingStep = new TrainingStep(manager, gradients,
                    new AdamW(manager, 0.9, 0.999, 1e-8, 0.01), null, null, 1, new LrSchedule("constant", 1e-3, 0, 0, 1), seed);
            int[] next = {0};
            MicroBatches source = () -> {
                int step = next[0]++;
                int slot = step % Math.max(1, perEpoch);
                HostBatch hb = assemblePerStep ? assembler.assemble(order, slot * batch, batch, 0, false) : batches[step % pool];
                return new BatchPipeline.Loaded(hb, 0, true, DataPosition.START);
            };
            long start = 0;
            double lossSum = 0;
            for (int step = 0; step < warmup + steps; step++) {
                if (step == warmup) {
                    if (profile != null) JniUtils.startProfile(false, true, false);
                    start = System.nanoTime();
                }
                lossSum += trainingStep.run(step, source, train).loss();
            }
            timedNanos = System.nanoTime() - start;
            if (profile != null) JniUtils.stopProfile(profile);
            if (!Double.isFinite(lossSum)) {
                System.err.println("bench: loss is not finite");
                return ExitCodes.CONFIG_ERROR;
            }
        }
        double seconds = timedNanos / 1e9;
        System.out.printf(Locale.ROOT,
                "{\"impl\":\"trainer\",\"model\":\"%s\",\"batch\":%d,\"threads\":%d,\"steps\":%d,\"seconds\":%.4f,"
                        + "\"samples_per_second\":%.2f,\"ms_per_step\":%.3f,\"parameters\":%d,\"parameter_tensors\":%d,"
                        + "\"peak_rss_mib\":%d,\"gradients\":\"%s\"}%n",
                model, batch, threads, steps, seconds, (double) steps * batch / seconds, seconds * 1000 / steps,
                parameters, tensors, ProcessMemory.peakResidentBytes() >> 20, gradientSource);
        return ExitCodes.FINISHED;
    }
}
