package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class CheckpointRef {
    public long step;
    public String time;
    public String path;
    public long bytes;
    /** Seconds the last save took to persist, so the operator can size terminationGracePeriodSeconds. */
    public Double saveSeconds;
}
