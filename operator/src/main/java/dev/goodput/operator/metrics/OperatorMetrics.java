package dev.goodput.operator.metrics;

import dev.goodput.api.metrics.MetricNames;
import dev.goodput.api.status.Badput;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.JobPhase;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.cost.CostLedger;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * The operator's per-job series on /q/metrics, all gauges whose values come from the job's status, so
 * they are exact after an operator restart (the informer's first reconcile of each job sets them again). Cost,
 * GPU-seconds, goodput and badput are computed from the status's attempt history ({@link CostLedger}) when they are
 * read, at most once a second per job, so they move with the clock between reconciles. Base units:
 * seconds and dollars. Preemptions and failures are gauges too, and carry no {@code _total}: they mirror status
 * counts, which a re-created job starts again from zero.
 *
 * <pre>
 * goodput_trainingjob_info{namespace,job,model,gpu_type,capacity}   1
 * goodput_trainingjob_phase{namespace,job,phase}                    1 for the current phase, 0 for the others
 * goodput_trainingjob_cost_dollars{namespace,job}
 * goodput_trainingjob_gpu_seconds{namespace,job}
 * goodput_trainingjob_preemptions{namespace,job}
 * goodput_trainingjob_failures{namespace,job}
 * goodput_trainingjob_time_to_target_seconds{namespace,job}        only once the target is reached
 * goodput_trainingjob_cost_to_target_dollars{namespace,job}        only once the target is reached
 * goodput_trainingjob_goodput_seconds{namespace,job}
 * goodput_trainingjob_badput_seconds{namespace,job,cause}           cause = scheduling|startup|tuning|checkpointing|preemption|failed
 * goodput_trainingjob_badput_cost_dollars{namespace,job,cause}
 * </pre>
 *
 * Call {@link #update(String, String, TrainingJobSpec, TrainingJobStatus, Instant)} after each reconcile of a job and
 * {@link #remove} when it is deleted. Thread-safe.
 */
@Singleton
public class OperatorMetrics {
    public static final String INFO = MetricNames.JOB_INFO;
    public static final String PHASE = MetricNames.JOB_PHASE;
    public static final String COST = MetricNames.JOB_COST;
    public static final String GPU_SECONDS = MetricNames.JOB_GPU_SECONDS;
    public static final String PREEMPTIONS = MetricNames.JOB_PREEMPTIONS;
    public static final String FAILURES = MetricNames.JOB_FAILURES;
    public static final String TIME_TO_TARGET = MetricNames.JOB_TIME_TO_TARGET;
    public static final String COST_TO_TARGET = MetricNames.JOB_COST_TO_TARGET;
    public static final String GOODPUT_SECONDS = MetricNames.JOB_GOODPUT_SECONDS;
    public static final String BADPUT_SECONDS = MetricNames.JOB_BADPUT_SECONDS;
    public static final String BADPUT_COST = MetricNames.JOB_BADPUT_COST;
    /** Every name this class exports. */
    public static final List<String> NAMES = MetricNames.OPERATOR;
    /** Every job phase: each has a series per job (0 or 1). */
    public static final List<String> PHASES = java.util.Arrays.stream(JobPhase.values()).map(Enum::name).toList();

    /** How long a computed snapshot serves the gauges of one scrape (17 gauges per job read it). */
    static final Duration RECOMPUTE_AFTER = Duration.ofSeconds(1);

    private final MeterRegistry registry;
    private final Clock clock;
    private final Map<Key, JobMeters> jobs = new ConcurrentHashMap<>();

    @Inject
    public OperatorMetrics(MeterRegistry registry) {
        this(registry, Clock.systemUTC());
    }

    public OperatorMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
    }

    private record Key(String namespace, String job) {}

    /**
     * Sets a job's series from its spec and status; cost and goodput are computed from {@code status} (its attempt
     * history) each time they are read, as of then.
     *
     * @param submitted the job's creationTimestamp (wall time starts there), or null
     */
    public void update(String namespace, String job, TrainingJobSpec spec, TrainingJobStatus status, Instant submitted) {
        TrainingJobStatus view = CostLedger.inputsOf(status);
        update(namespace, job, now -> {
            TrainingJobStatus priced = CostLedger.inputsOf(view);
            CostLedger.compute(view, submitted, now).applyTo(priced);
            return JobSnapshot.of(namespace, job, spec, priced);
        }, true);
    }

    /** Sets a job's series from a fixed snapshot (its cost as given, not computed). */
    public void update(JobSnapshot snapshot) {
        update(snapshot.namespace(), snapshot.job(), now -> snapshot, false);
    }

    private void update(String namespace, String job, Function<Instant, JobSnapshot> source, boolean live) {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(job, "job");
        jobs.computeIfAbsent(new Key(namespace, job), k -> new JobMeters(k)).update(source, live);
    }

    /** Deletes every series of the job. */
    public void remove(String namespace, String job) {
        JobMeters m = jobs.remove(new Key(namespace, job));
        if (m != null) {
            m.removeAll();
        }
    }

    /** Jobs that have series, as namespace/name. */
    public Set<String> jobs() {
        Set<String> out = new LinkedHashSet<>();
        jobs.keySet().forEach(k -> out.add(k.namespace() + "/" + k.job()));
        return out;
    }

    /**
     * One job's meters; gauges read {@link #current()}, which computes the snapshot from the job's last status at most
     * once per {@link #RECOMPUTE_AFTER}, so an update is two volatile writes plus label changes.
     */
    private final class JobMeters {
        private final Tags tags;
        private volatile Function<Instant, JobSnapshot> source;
        private volatile boolean live;
        private volatile JobSnapshot current;
        private volatile Instant computedAt;
        private final List<Meter> fixed = new ArrayList<>();
        private final Map<String, Meter> phases = new HashMap<>();
        private Meter info;
        private List<String> infoLabels;
        private Meter timeToTarget;
        private Meter costToTarget;

        JobMeters(Key key) {
            this.tags = Tags.of("namespace", key.namespace(), "job", key.job());
        }

        synchronized void update(Function<Instant, JobSnapshot> source, boolean live) {
            Instant now = clock.instant();
            this.source = source;
            this.live = live;
            JobSnapshot s = source.apply(now);
            current = s;
            computedAt = now;
            if (fixed.isEmpty()) {
                fixed.add(gauge(COST, "Dollars spent on the job so far, all attempts", tags, j -> j.costDollars()));
                fixed.add(gauge(GPU_SECONDS, "GPU-seconds the job's pods held, all attempts", tags, j -> j.gpuSeconds()));
                fixed.add(gauge(PREEMPTIONS, "Attempts of the job ended by preemption", tags, j -> j.preemptions()));
                fixed.add(gauge(FAILURES, "Attempts of the job that failed", tags, j -> j.failures()));
                fixed.add(gauge(GOODPUT_SECONDS, "Wall seconds spent on training steps the final model keeps", tags,
                        j -> j.goodputSeconds()));
                for (String cause : Badput.CAUSES) {
                    Tags t = tags.and("cause", cause);
                    fixed.add(gauge(BADPUT_SECONDS, "Wall seconds not spent on kept training steps, by cause", t,
                            j -> j.badputSeconds().getOrDefault(cause, 0.0)));
                    fixed.add(gauge(BADPUT_COST, "Dollars not spent on kept training steps, by cause", t,
                            j -> j.badputCostDollars().getOrDefault(cause, 0.0)));
                }
                for (String phase : PHASES) {
                    phases.put(phase, phaseGauge(phase));
                }
            }
            List<String> labels = List.of(s.model(), s.gpuType(), s.capacity());
            if (!labels.equals(infoLabels)) {
                if (info != null) {
                    registry.remove(info);
                }
                info = gauge(INFO, "1 for each TrainingJob, labelled with its model, GPU type and capacity",
                        tags.and("model", s.model(), "gpu_type", s.gpuType(), "capacity", s.capacity()), j -> 1);
                infoLabels = labels;
            }
            timeToTarget = optional(timeToTarget, s.timeToTargetSeconds() != null, TIME_TO_TARGET,
                    "Wall seconds from submission to the end of the attempt that reached the target",
                    j -> j.timeToTargetSeconds() == null ? Double.NaN : j.timeToTargetSeconds());
            costToTarget = optional(costToTarget, s.costToTargetDollars() != null, COST_TO_TARGET,
                    "Dollars spent until the target was reached",
                    j -> j.costToTargetDollars() == null ? Double.NaN : j.costToTargetDollars());
        }

        /** The snapshot as of now: computed again when the one held is older than {@link #RECOMPUTE_AFTER}. */
        JobSnapshot current() {
            Instant now = clock.instant();
            if (live && Duration.between(computedAt, now).compareTo(RECOMPUTE_AFTER) >= 0) {
                synchronized (this) {
                    if (Duration.between(computedAt, now).compareTo(RECOMPUTE_AFTER) >= 0) {
                        current = source.apply(now);
                        computedAt = now;
                    }
                }
            }
            return current;
        }

        synchronized void removeAll() {
            List<Meter> all = new ArrayList<>(fixed);
            all.addAll(phases.values());
            all.add(info);
            all.add(timeToTarget);
            all.add(costToTarget);
            all.stream().filter(Objects::nonNull).forEach(registry::remove);
            fixed.clear();
            phases.clear();
            info = timeToTarget = costToTarget = null;
        }

        private Meter optional(Meter meter, boolean present, String name, String help, ToDoubleFunction<JobSnapshot> f) {
            if (present && meter == null) {
                return gauge(name, help, tags, f);
            }
            if (!present && meter != null) {
                registry.remove(meter);
                return null;
            }
            return meter;
        }

        private Meter phaseGauge(String phase) {
            return gauge(PHASE, "1 for the job's current phase, 0 for the others", tags.and("phase", phase),
                    j -> phase.equals(j.phase()) ? 1 : 0);
        }

        private Meter gauge(String name, String help, Tags t, ToDoubleFunction<JobSnapshot> f) {
            return Gauge.builder(name, this, m -> f.applyAsDouble(m.current())).description(help).tags(t)
                    .strongReference(true).register(registry);
        }
    }
}
