package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;

/** A status condition shaped like metav1.Condition, without depending on Kubernetes types. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class JobCondition {
    public String type;
    public String status;
    public String reason;
    public String message;
    public Long observedGeneration;
    public String lastTransitionTime;
}
