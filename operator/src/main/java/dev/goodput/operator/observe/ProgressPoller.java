package dev.goodput.operator.observe;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.reconcile.JobResources;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * Observe: polls {@code GET http://<podIP>:<metrics port>/progress} of each job's running trainer pod, every
 * {@code interval}, and keeps the latest answer as the job's secondary resource ({@link ProgressSample}). Polling
 * never runs on a reconcile thread: one timer thread starts asynchronous requests (connect and response timeouts of
 * {@code timeout}, at most one in flight per pod). An answer that changes what the operator acts on ({@link
 * ReportChange}: the trainer's phase, a checkpoint, the tuned batch, the target) triggers a reconcile of its job; one
 * that only moves the steps does not, and waits in this cache for the job's periodic reconcile, which copies it into
 * status. A pod that does not answer (still starting, gone, unreachable) is simply tried again at the next tick; its
 * last answer stays.
 *
 * <p>The reconciler says which pod to poll ({@link #track}) and when to stop ({@link #untrack}); it never waits for
 * an answer.
 */
public class ProgressPoller extends AbstractEventSource<ProgressSample, TrainingJob> {
    public static final String NAME = "trainer-progress";
    private static final Logger LOG = Logger.getLogger(ProgressPoller.class);
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Duration interval;
    private final Duration timeout;
    private final Clock clock;
    private final HttpClient http;
    private final ScheduledExecutorService timer;
    private final Map<ResourceID, Target> targets = new ConcurrentHashMap<>();

    /** One polled pod. */
    private static final class Target {
        final String podUid;
        final URI uri;
        final AtomicBoolean inFlight = new AtomicBoolean();
        volatile ScheduledFuture<?> task;
        volatile ProgressSample last;

        Target(String podUid, URI uri) {
            this.podUid = podUid;
            this.uri = uri;
        }
    }

    public ProgressPoller(Duration interval, Duration timeout, Clock clock) {
        super(ProgressSample.class, NAME);
        this.interval = interval;
        this.timeout = timeout;
        this.clock = clock;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "goodput-progress-poller");
            t.setDaemon(true);
            return t;
        });
    }

    /** The trainer's /progress address in a pod, or null while the pod has no IP. */
    public static URI progressUri(Pod pod) {
        String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
        if (ip == null || ip.isBlank()) {
            return null;
        }
        int port = pod.getSpec().getContainers().stream()
                .filter(c -> JobObserver.TRAINER_CONTAINER.equals(c.getName()) && c.getPorts() != null)
                .flatMap(c -> c.getPorts().stream()).filter(p -> "metrics".equals(p.getName()))
                .map(ContainerPort::getContainerPort).filter(Objects::nonNull).findFirst()
                .orElse(JobResources.METRICS_PORT);
        String host = ip.contains(":") ? "[" + ip + "]" : ip;
        return URI.create("http://" + host + ":" + port + "/progress");
    }

    /** Polls this pod for the job from now on; idempotent; another pod of the job replaces the previous one. */
    public void track(ResourceID job, Pod pod) {
        URI uri = progressUri(pod);
        if (uri == null || !isRunning()) {
            untrack(job);
            return;
        }
        String uid = pod.getMetadata().getUid();
        targets.compute(job, (k, old) -> {
            if (old != null && old.podUid.equals(uid) && old.uri.equals(uri)) {
                return old;
            }
            if (old != null && old.task != null) {
                old.task.cancel(false);
            }
            Target t = new Target(uid, uri);
            t.task = timer.scheduleWithFixedDelay(() -> poll(job, t), 0, interval.toMillis(), TimeUnit.MILLISECONDS);
            return t;
        });
    }

    /** Stops polling for the job and forgets its last answer. */
    public void untrack(ResourceID job) {
        Target t = targets.remove(job);
        if (t != null && t.task != null) {
            t.task.cancel(false);
        }
    }

    /** Jobs polled now (for tests and diagnostics). */
    public Set<ResourceID> tracked() {
        return Set.copyOf(targets.keySet());
    }

    private void poll(ResourceID job, Target t) {
        if (!t.inFlight.compareAndSet(false, true)) {
            return;
        }
        HttpRequest request = HttpRequest.newBuilder(t.uri).timeout(timeout).header("Accept", "application/json").GET().build();
        try {
            http.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((response, error) -> {
                t.inFlight.set(false);
                if (error != null || response.statusCode() != 200) {
                    LOG.debugf("%s: %s: %s", job, t.uri, error != null ? error.toString() : "HTTP " + response.statusCode());
                    return;
                }
                received(job, t, response.body());
            });
        } catch (RuntimeException e) {
            t.inFlight.set(false);
            LOG.debugf("%s: %s: %s", job, t.uri, e);
        }
    }

    private void received(ResourceID job, Target t, byte[] body) {
        TrainerReport report;
        try {
            report = JSON.readValue(body, TrainerReport.class);
        } catch (Exception e) {
            LOG.debugf("%s: %s: not a progress report: %s", job, t.uri, e.getMessage());
            return;
        }
        ProgressSample previous = t.last;
        boolean changed = ReportChange.meaningful(previous == null ? null : previous.report(), report);
        t.last = new ProgressSample(t.podUid, report, Instant.now(clock));
        if (changed && targets.get(job) == t && isRunning() && getEventHandler() != null) {
            getEventHandler().handleEvent(new Event(job));
        }
    }

    @Override
    public Set<ProgressSample> getSecondaryResources(TrainingJob job) {
        Target t = targets.get(ResourceID.fromResource(job));
        ProgressSample s = t == null ? null : t.last;
        return s == null ? Set.of() : Set.of(s);
    }

    @Override
    public void stop() {
        super.stop();
        targets.values().forEach(t -> {
            if (t.task != null) {
                t.task.cancel(false);
            }
        });
        targets.clear();
        timer.shutdownNow();
    }
}
