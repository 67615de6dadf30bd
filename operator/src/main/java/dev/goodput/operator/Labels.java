package dev.goodput.operator;

/** Labels, annotations, finalizers and names the operator puts on what it creates; the trainer and dashboards rely on them. */
public final class Labels {
    public static final String JOB = "goodput.dev/job";
    public static final String ATTEMPT = "goodput.dev/attempt";
    /** A data-parallel job's pod: its rank in the attempt's gang (also RANK in its environment). */
    public static final String RANK = "goodput.dev/rank";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String NAME = "app.kubernetes.io/name";
    public static final String OPERATOR = "goodput-operator";
    public static final String TRAINER = "goodput-trainer";
    /** The field manager of every server-side apply the operator sends. */
    public static final String FIELD_MANAGER = "goodput-operator";
    /** spec.managedBy values that mean "this operator"; anything else makes it stand aside (Kueue MultiKueue). */
    public static final String CONTROLLER = "goodput.dev/operator";
    /**
     * Pod-tracking finalizer on every trainer pod (as the Job controller puts batch.kubernetes.io/job-tracking): the
     * pod, with its exit code, termination message and DisruptionTarget condition, stays readable until the operator
     * has recorded the attempt's outcome in status, so that outcome never depends on who was faster.
     */
    public static final String POD_FINALIZER = "goodput.dev/trainer-pod";
    /** Annotation the operator puts on a pod it deletes itself, saying why (Suspended, JobDeleted). */
    public static final String STOP_REASON = "goodput.dev/stop-reason";

    private Labels() {}

    public static String configMapName(String job) {
        return job + "-config";
    }

    public static String podName(String job, int attempt) {
        return job + "-" + attempt;
    }

    /**
     * The pod of {@code rank} in attempt {@code attempt} of a job with {@code workers} pods: {@code <job>-<attempt>} for
     * one (as before workers existed), {@code <job>-<attempt>-<rank>} for a gang. Also the pod's hostname in the job's
     * headless Service, so it must be a DNS label: the validator limits such jobs' names.
     */
    public static String podName(String job, int attempt, int rank, int workers) {
        return workers <= 1 ? podName(job, attempt) : podName(job, attempt) + "-" + rank;
    }

    /** The headless Service of a data-parallel job, whose DNS names the pods' hostnames (rendezvous with rank 0). */
    public static String serviceName(String job) {
        return job + "-workers";
    }

    /** Whether this operator manages a job with this spec.managedBy (empty or {@value #CONTROLLER}). */
    public static boolean managedHere(String managedBy) {
        return managedBy == null || managedBy.isEmpty() || CONTROLLER.equals(managedBy);
    }
}
