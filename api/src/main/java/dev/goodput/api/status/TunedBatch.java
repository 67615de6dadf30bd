package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class TunedBatch {
    public int micro;
    public int accumulation;
    public int global;
    public double lr;
    /** How the micro-batch was chosen: fixed (from the spec), tuned, checkpoint, or cache. */
    public String source;
    /** Device type the result was tuned on (cpu, cuda): a resume on another type tunes again. */
    public String device;
    /** What the result depends on (model, input shape, precision, device type, memory budget), as a ConfigMap key. */
    public String key;
}
