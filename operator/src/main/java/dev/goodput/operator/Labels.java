package dev.goodput.operator;

/** Labels and names the operator puts on what it creates; the trainer and dashboards rely on them. */
public final class Labels {
    public static final String JOB = "goodput.dev/job";
    public static final String ATTEMPT = "goodput.dev/attempt";
    public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
    public static final String NAME = "app.kubernetes.io/name";
    public static final String OPERATOR = "goodput-operator";
    public static final String TRAINER = "goodput-trainer";
    /** The field manager of every server-side apply the operator sends. */
    public static final String FIELD_MANAGER = "goodput-operator";

    private Labels() {}

    public static String configMapName(String job) {
        return job + "-config";
    }

    public static String podName(String job, int attempt) {
        return job + "-" + attempt;
    }
}
