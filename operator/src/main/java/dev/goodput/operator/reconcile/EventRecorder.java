package dev.goodput.operator.reconcile;

import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.status.JobEvent;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import org.jboss.logging.Logger;

/**
 * Records {@link JobEvent}s as core/v1 Events on the TrainingJob ({@code kubectl describe tj} and
 * {@code kubectl get events} show them). The event's name is derived from the job's uid, the attempt and the reason,
 * so a reconcile repeated after a lost status write records nothing twice (the second create is refused as a
 * conflict). Best effort: a failure to record is logged, never fails the reconcile.
 */
public class EventRecorder {
    public static final String COMPONENT = "goodput-operator";
    private static final Logger LOG = Logger.getLogger(EventRecorder.class);
    private final Clock clock;
    private final String instance;

    public EventRecorder(Clock clock) {
        this.clock = clock;
        String host = System.getenv("HOSTNAME");
        this.instance = host == null || host.isBlank() ? COMPONENT : host;
    }

    public void record(KubernetesClient client, TrainingJob job, JobEvent e) {
        if (e == null) {
            return;
        }
        String now = Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
        Event event = new EventBuilder().withNewMetadata().withName(name(job, e))
                .withNamespace(job.getMetadata().getNamespace()).endMetadata()
                .withNewInvolvedObject().withApiVersion(job.getApiVersion()).withKind(job.getKind())
                .withName(job.getMetadata().getName()).withNamespace(job.getMetadata().getNamespace())
                .withUid(job.getMetadata().getUid()).endInvolvedObject()
                .withType(e.type()).withReason(e.reason()).withMessage(e.message())
                .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                .withNewSource().withComponent(COMPONENT).endSource()
                .withReportingComponent("goodput.dev/operator").withReportingInstance(instance)
                .build();
        try {
            client.v1().events().inNamespace(job.getMetadata().getNamespace()).resource(event).create();
        } catch (KubernetesClientException ex) {
            if (ex.getCode() != 409) {
                LOG.warnf("%s/%s: cannot record event %s: %s", job.getMetadata().getNamespace(),
                        job.getMetadata().getName(), e.reason(), ex.getMessage());
            }
        }
    }

    /** {@code <job>.<uid prefix>.<attempt>.<reason>}, a valid DNS subdomain of at most 253 characters. */
    static String name(TrainingJob job, JobEvent e) {
        String uid = job.getMetadata().getUid() == null ? "0" : job.getMetadata().getUid();
        String suffix = "." + uid.substring(0, Math.min(8, uid.length())) + "." + e.attempt() + "."
                + e.reason().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        String base = job.getMetadata().getName();
        if (base.length() + suffix.length() > 253) {
            base = base.substring(0, 253 - suffix.length()).replaceAll("[.-]+$", "");
        }
        return base + suffix;
    }
}
