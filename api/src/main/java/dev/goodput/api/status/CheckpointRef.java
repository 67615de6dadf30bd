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
    /**
     * SHA-256 of the checkpoint's parameters file: the model's weights byte for byte, so the result of a job can be
     * compared with another run (a laptop run of the same manifest, an uninterrupted run) by one value.
     */
    public String parametersSha256;
}
