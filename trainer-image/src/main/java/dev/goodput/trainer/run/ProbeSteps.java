package dev.goodput.trainer.run;

import ai.djl.ndarray.NDManager;
import java.lang.ref.Reference;
import java.util.Map;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.trainer.checkpoint.ModelState;
import dev.goodput.trainer.checkpoint.Snapshot;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.config.BatchChoice;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.data.BatchPipeline;
import dev.goodput.trainer.data.DataPosition;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.tune.MemoryProbe;

/**
 * The batch tuner's probe step: the job's own components (model, optimizer and precision, clipping, the loss scaler)
 * assembled from a throwaway plan at the probed micro-batch, fed real training batches through the job's loader
 * (its workers' and prefetch buffers count), with a checkpoint's host copy of the model and optimizer held from the
 * first step on, then one evaluation batch. A micro-batch below the global batch probes two micro-batches per step, as
 * accumulation runs them. Text is probed at its widest batches. Only what this depends on goes into the tuning key.
 */
public final class ProbeSteps implements MemoryProbe.Steps {
    private final TrainingJobSpec spec;
    private final RunPlan run;
    private final DataSource.Splits data;

    public ProbeSteps(TrainingJobSpec spec, RunPlan run, DataSource.Splits data) {
        this.spec = spec;
        this.run = run;
        // Text batches are cut to their longest example; a probe must see the widest the run can meet.
        this.data = new DataSource.Splits(data.train().atWidestBatches(), data.test().atWidestBatches());
    }

    @Override
    public void run(NDManager manager, int micro, int count) {
        int size = data.train().size();
        int accumulation = micro < run.rankBatch() && 2L * micro <= size ? 2 : 1;
        TrainingPlan steps = RunPlanner.steps(spec, run, size, new BatchChoice(micro, accumulation, "probe"));
        Components c = ComponentAssembler.assemble(run, steps, data, manager, false);
        try (BatchPipeline pipeline = new BatchPipeline(c.train(), steps.seed(), micro, accumulation, DataPosition.START,
                steps.loaderWorkers(), steps.prefetch())) {
            c.step().run(0, pipeline, c.train().examples());
            // A periodic checkpoint copies every array to the host and holds the copy while training goes on and the
            // save runs in the background: the later steps and the evaluation run beside it, as in the loop.
            Snapshot held = ModelState.snapshot(c.arrays(), c.optimizer(),
                    new TrainingState(TrainingState.VERSION, 0, run.seed(), null, Map.of()));
            for (int i = 1; i < count; i++) c.step().run(i, pipeline, c.train().examples());
            c.evaluator().evaluateOneBatch(manager, c.block(), c.parameterStore());
            Reference.reachabilityFence(held); // the copy's memory counts until here, as a background save's would
        } finally {
            c.close();
        }
    }
}
