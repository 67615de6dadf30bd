package dev.goodput.operator.observe;

import dev.goodput.api.status.TrainerReport;
import java.time.Instant;

/** One answer of a trainer pod's {@code GET /progress}: which pod (by uid) said what, and when. */
public record ProgressSample(String podUid, TrainerReport report, Instant at) {}
