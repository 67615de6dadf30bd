package dev.goodput.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.status.JobEvent;
import org.junit.jupiter.api.Test;

class EventRecorderTest {
    static TrainingJob job(String name) {
        TrainingJob j = new TrainingJob();
        j.getMetadata().setName(name);
        j.getMetadata().setUid("3f2a9c1e-0000-4000-8000-000000000000");
        return j;
    }

    @Test
    void anEventsNameIsItsJobAttemptAndReasonSoARepeatIsRefused() {
        JobEvent e = new JobEvent(JobEvent.WARNING, "BackoffLimitExceeded", "m", 3);
        assertThat(EventRecorder.name(job("train"), e)).isEqualTo("train.3f2a9c1e.3.backofflimitexceeded");
        String longName = "x".repeat(253);
        assertThat(EventRecorder.name(job(longName), e)).hasSize(253).endsWith(".3f2a9c1e.3.backofflimitexceeded");
    }
}
