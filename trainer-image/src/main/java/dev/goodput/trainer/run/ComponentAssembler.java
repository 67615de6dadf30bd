package dev.goodput.trainer.run;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.checkpoint.CheckpointedStates;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.cost.AttemptLog;
import dev.goodput.trainer.loop.RunProgress;
import dev.goodput.trainer.optim.OptimizerSteps;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.EpochOrder;
import dev.goodput.trainer.distributed.DistributedGradients;
import dev.goodput.trainer.distributed.ProcessGroup;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.loop.DataParallelGradients;
import dev.goodput.trainer.loop.Evaluator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.loop.TrainingStep;
import dev.goodput.trainer.model.ModelFactory;
import dev.goodput.trainer.model.torchscript.AdapterGradients;
import dev.goodput.trainer.model.LoadedModel;
import dev.goodput.trainer.checkpoint.ModelArrays;
import dev.goodput.trainer.checkpoint.BaseWeights;
import dev.goodput.trainer.recompute.Segmented;
import dev.goodput.trainer.optim.AveragedWeights;
import dev.goodput.trainer.optim.Optimizer;
import dev.goodput.trainer.precision.HalfPrecisionModel;
import dev.goodput.trainer.precision.LossScaler;
import dev.goodput.trainer.precision.MixedPrecisionOptimizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a run's components from its plans, and nothing else: the one rule applied here is the evaluator's batch (the
 * micro-batch, at most the plan's cap). The run assembles once for training; the batch tuner assembles a throwaway
 * set per probe, with the same code, so that what it measures is the job's real step.
 */
public final class ComponentAssembler {
    private ComponentAssembler() {}

    /**
     * @param replicas build the other devices' replicas (data parallel over several GPUs); a memory probe measures one
     *                 device and does not
     */
    public static Components assemble(RunPlan run, TrainingPlan steps, DataSource.Splits data, NDManager manager, boolean replicas) {
        return assemble(run, steps, data, manager, replicas, null);
    }

    /**
     * @param group the processes training this model together, whose gradients are averaged each step; null for one
     *              process (and for the tuner's probes, which measure one process's memory)
     */
    public static Components assemble(RunPlan run, TrainingPlan steps, DataSource.Splits data, NDManager manager,
                                      boolean replicas, ProcessGroup group) {
        ExampleSet train = data.train();
        Shape one = new Shape(1, train.channels(), train.height(), train.width());
        LoadedModel model = ModelFactory.create(run.model(), train, manager);
        Block block = model.block();
        ParameterStore parameterStore = new ParameterStore(manager, false);
        Optimizer optimizer = run.optimizer().build(manager);
        LossScaler scaler = null;
        if (run.fp16()) {
            optimizer = new MixedPrecisionOptimizer(optimizer, HalfPrecisionModel.convert(block.getParameters()));
            scaler = new LossScaler(run.initialLossScale(), LossScaler.GROWTH_INTERVAL);
        }
        if (run.emaDecay() != null) optimizer = new AveragedWeights(optimizer, run.emaDecay(), block.getParameters(), manager);
        List<NDManager> others = new ArrayList<>();
        // Gradient checkpointing recomputes the model's segments in backward (a BERT classifier's encoder layers, a
        // TorchScript model's stages): the same gradients for less memory.
        if (run.recompute() && !(block instanceof Segmented)) {
            // The CRD admits it for the architectures that can have segments; a TorchScript model must be given as them.
            throw new IllegalArgumentException("spec.training.gradientCheckpointing: the model " + run.model().architecture
                    + (run.model().torchscript != null ? " " + run.model().torchscript + " is one TorchScript file, whose"
                    + " layers the trainer cannot run one at a time; give spec.model.torchscript a folder of stages"
                    + " (stage-0.pt, stage-1.pt, ...; see examples/torchscript/export_model.py --stages), or set"
                    + " gradientCheckpointing to false" : " has no segments to recompute; set gradientCheckpointing to false"));
        }
        GradientSource gradients = GradientSources.forModel(block, parameterStore, run.recompute(), run.fp16());
        if (!model.adapters().isEmpty()) gradients = new AdapterGradients(gradients, model.adapters());
        int n = run.devices().devices().size();
        if (replicas && n > 1) {
            List<NDManager> all = new ArrayList<>(List.of(manager));
            for (int i = 1; i < n; i++) {
                NDManager m = NDManager.newBaseManager(run.devices().devices().get(i));
                others.add(m);
                all.add(m);
            }
            gradients = new DataParallelGradients(block, () -> ModelFactory.build(run.model(), train.classes()),
                    run.devices().devices(), all, one);
        }
        if (group != null) gradients = new DistributedGradients(gradients, group, block.getParameters());
        Normalization norm = Normalization.of(train);
        // Inference needs less memory per example than training, so the micro-batch bounds the evaluation batch
        // safely; a floor above it would make the tuner's probes at small sizes all measure the same evaluation, and
        // the memory model fitted to them would be flat where it is not.
        Evaluator evaluator = new Evaluator(new BatchAssembler(data.test(), norm, null, steps.seed()),
                Math.min(run.evalBatchCap(), steps.microBatch()), run.fp16() ? DataType.FLOAT16 : DataType.FLOAT32);
        // Dropout's masks: each process draws its own stream for its share (the same seeds on every process would give
        // every share the same masks); rank 0's is the single process's, so one process trains as it always did.
        long dropoutSeed = steps.shard().rank() == 0 ? steps.seed() : EpochOrder.mix(steps.seed(), -1 - steps.shard().rank());
        TrainingStep step = new TrainingStep(manager, gradients, optimizer, scaler, steps.clipNorm(), steps.accumulation(),
                steps.schedule(), dropoutSeed);
        return new Components(block, ModelArrays.of(block, model.buffers(), model.weightsFile(), model.adapters()), parameterStore, optimizer, scaler, step,
                new BatchAssembler(train, norm, run.data().augment, steps.seed()), evaluator, List.copyOf(others));
    }

    /**
     * Every component whose state a checkpoint holds besides the arrays, in the order state.json lists them. The
     * learning-rate schedule is not one: it is a pure function of the step ({@code LrSchedule.lr}), which the loop's
     * position restores.
     */
    public static CheckpointedStates checkpointedStates(Components c, RunPlan run, RunProgress progress, AttemptLog attempts) {
        CheckpointedStates states = new CheckpointedStates();
        progress.checkpointed().forEach(states::register);
        states.register(new OptimizerSteps(c.optimizer(), run.optimizer().name()));
        if (c.scaler() != null) states.register(c.scaler());
        if (c.arrays().base() != null) states.register(new BaseWeights(c.arrays().base()));
        states.register(attempts);
        return states;
    }
}
