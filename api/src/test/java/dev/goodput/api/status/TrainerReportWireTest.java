package dev.goodput.api.status;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The trainer's report as it travels between two processes of possibly different versions: the phase names on the
 * wire, and a phase only a newer trainer knows, read by mappers configured as the operator's and as Jackson's default.
 */
class TrainerReportWireTest {
    static final List<ObjectMapper> READERS = List.of(new ObjectMapper(),
            new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES));

    @Test
    void phasesTravelByTheirNames() throws Exception {
        for (TrainerPhase phase : TrainerPhase.values()) {
            TrainerReport r = new TrainerReport();
            r.phase = phase;
            String json = new ObjectMapper().writeValueAsString(r);
            assertThat(json).isEqualTo("{\"phase\":\"" + phase.name() + "\"}");
            for (ObjectMapper reader : READERS) {
                assertThat(reader.readValue(json, TrainerReport.class).phase).isEqualTo(phase);
            }
        }
    }

    @Test
    void aPhaseFromANewerTrainerReadsAsUnknownAndTheRestOfTheReportSurvives() throws Exception {
        String json = "{\"phase\":\"Compiling\",\"attempt\":3,\"progress\":{\"step\":42}}";
        for (ObjectMapper reader : READERS) {
            TrainerReport r = reader.readValue(json, TrainerReport.class);
            assertThat(r.phase).isEqualTo(TrainerPhase.Unknown);
            assertThat(r.attempt).isEqualTo(3);
            assertThat(r.progress.step).isEqualTo(42);
        }
        assertThat(new ObjectMapper().readValue("{}", TrainerReport.class).phase).as("absent stays absent").isNull();
    }

    @Test
    void jobPhasesAndOutcomesAreTheNamesStatusHasAlwaysHad() throws Exception {
        TrainingJobStatus s = new TrainingJobStatus();
        s.phase = JobPhase.Checkpointing;
        AttemptRecord r = new AttemptRecord();
        r.outcome = AttemptOutcome.Preempted;
        s.attemptHistory = List.of(r);
        String json = new ObjectMapper().writeValueAsString(s);
        assertThat(json).contains("\"phase\":\"Checkpointing\"").contains("\"outcome\":\"Preempted\"");
        assertThat(JobPhase.Succeeded.finished()).isTrue();
        assertThat(JobPhase.Preempted.finished()).isFalse();
    }
}
