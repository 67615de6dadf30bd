package dev.goodput.operator.attempt;

import static dev.goodput.operator.attempt.AttemptStateMachine.STOP_GANG;
import static dev.goodput.operator.attempt.AttemptStateMachine.STOP_STALLED;
import static dev.goodput.operator.attempt.AttemptStateMachine.STOP_SUSPENDED;
import static dev.goodput.operator.attempt.AttemptStateMachineTest.NOW;
import static dev.goodput.operator.attempt.AttemptStateMachineTest.deleting;
import static dev.goodput.operator.attempt.AttemptStateMachineTest.disrupted;
import static dev.goodput.operator.attempt.AttemptStateMachineTest.exited;
import static dev.goodput.operator.attempt.AttemptStateMachineTest.observeGang;
import static dev.goodput.operator.attempt.AttemptStateMachineTest.running;
import static dev.goodput.operator.attempt.AttemptStateMachineTest.stoppedBy;
import static dev.goodput.operator.attempt.AttemptStateMachineTest.succeeded;
import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.operator.observe.AttemptObservation;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import org.junit.jupiter.api.Test;

/** What a {@link Gang} says besides its lead (whose decisions are rows of AttemptStateMachineTest's table). */
class GangTest {

    static Pod ready(Pod p) {
        p.getStatus().getConditions().add(new PodConditionBuilder().withType("Ready").withStatus("True").build());
        return p;
    }

    static String name(Pod p) {
        return p.getMetadata().getName();
    }

    @Test
    void aGangRestartStopsThePodsThatRunButLeavesThoseAlreadyStoppingAlone() {
        Gang g = observeGang(running(), exited(1, null, NOW), deleting(running(), NOW), running());
        assertThat(g.lead().brokenBy()).isEqualTo("job-1-1");
        assertThat(g.toStop(STOP_GANG)).extracting(GangTest::name).containsExactly("job-1-0", "job-1-3");
        assertThat(g.toStop(STOP_SUSPENDED)).as("a suspension marks every pod that has not ended")
                .extracting(GangTest::name).containsExactly("job-1-0", "job-1-2", "job-1-3");
    }

    @Test
    void aStalledGangStaysStalledWhileItsPodsStop() {
        // All stopped for the stall; rank 1 ended first. The restart relabels none, so the stall is the outcome.
        Gang stopping = observeGang(stoppedBy(STOP_STALLED, running()), stoppedBy(STOP_STALLED, exited(75, null, NOW)));
        assertThat(stopping.toStop(STOP_GANG)).isEmpty();
        Gang ended = observeGang(stoppedBy(STOP_STALLED, exited(75, null, NOW)), stoppedBy(STOP_STALLED, exited(75, null, NOW)));
        assertThat(ended.lead().ended()).isTrue();
        assertThat(AttemptStateMachine.failureReason(ended.lead())).isEqualTo(STOP_STALLED);
    }

    @Test
    void readyCountsThePodsThatAreReadyAndNotBeingDeleted() {
        Gang g = observeGang(ready(running()), ready(running()), running(), ready(deleting(running(), NOW)));
        assertThat(g.members()).hasSize(4);
        assertThat(g.ready()).isEqualTo(2);
    }

    @Test
    void aGangIsBilledUntilItsLastPodHasEnded() {
        Gang stopping = observeGang(exited(1, null, NOW.minusSeconds(30)), running());
        assertThat(stopping.lastEnd()).as("a pod still runs").isNull();
        Gang ended = observeGang(exited(1, null, NOW.minusSeconds(30)), stoppedBy(STOP_GANG, exited(75, null, NOW)));
        assertThat(ended.lastEnd()).isEqualTo(NOW.toString());
        assertThat(ended.lead().exitCode()).as("the outcome is the failed pod's").isEqualTo(1);
    }

    @Test
    void rankZeroSpeaksForAGangThatSucceeded() {
        Gang g = observeGang(succeeded("{\"targetReached\":true}"), succeeded(null));
        assertThat(g.lead().pod().getMetadata().getName()).isEqualTo("job-1-0");
        assertThat(g.lead().report().targetReached).isTrue();
    }

    @Test
    void whileTheOthersStopStatusSaysWhichPodEndedAndWhy() {
        Gang g = observeGang(running(), disrupted("EvictionByEvictionAPI", exited(143, null, NOW)));
        var status = AttemptStateMachineTest.status(1, 0);
        new dev.goodput.operator.status.StatusAggregator(AttemptStateMachineTest.CLOCK).gangStopping(status, 1, g.lead());
        assertThat(status.phase).isEqualTo(dev.goodput.api.status.JobPhase.Checkpointing);
        var running = dev.goodput.operator.status.StatusAggregator.condition(status, "Running");
        assertThat(running.status).isEqualTo("False");
        assertThat(running.reason).isEqualTo("GangRestarting");
        assertThat(running.message).isEqualTo("attempt 1: pod job-1-1 ended (EvictionByEvictionAPI); stopping the"
                + " attempt's other pods gracefully, the next attempt starts when all have stopped");
    }

    @Test
    void rankZerosCheckpointIsTheGangsWhicheverPodEndedIt() {
        String checkpointed = "{\"resumedFromStep\":100,\"progress\":{\"step\":416},\"lastCheckpoint\":{\"step\":416},"
                + "\"message\":\"preempted: checkpoint saved\"}";
        Gang evicted = observeGang(stoppedBy(STOP_GANG, exited(75, checkpointed, NOW)),
                disrupted("EvictionByEvictionAPI", exited(75, null, NOW)));
        assertThat(evicted.lead().pod().getMetadata().getName()).isEqualTo("job-1-1");
        assertThat(evicted.lead().report().lastCheckpoint.step).isEqualTo(416);
        assertThat(evicted.lead().report().resumedFromStep).isEqualTo(100);
        assertThat(evicted.lead().report().message).as("rank 1 said nothing; rank 0's account is not its").isNull();

        Gang failed = observeGang(stoppedBy(STOP_GANG, exited(75, checkpointed, NOW)),
                exited(1, "{\"message\":\"data file unreadable\"}", NOW));
        assertThat(failed.lead().exitCode()).isEqualTo(1);
        assertThat(failed.lead().report().message).isEqualTo("data file unreadable");
        assertThat(failed.lead().report().lastCheckpoint.step).isEqualTo(416);

        Gang stopping = observeGang(running(), exited(1, null, NOW));
        assertThat(stopping.lead().brokenBy()).isEqualTo("job-1-1");
        assertThat(stopping.lead().report()).as("rank 0 has not reported yet").isNull();
    }

    @Test
    void oneWorkerIsItsOwnLead() {
        Pod p = disrupted("EvictionByEvictionAPI", deleting(exited(143, null, null), NOW));
        AttemptObservation o = AttemptStateMachineTest.seen(p);
        Gang g = Gang.of(java.util.List.of(o));
        assertThat(g.lead()).isSameAs(o);
        assertThat(g.lead().brokenBy()).isNull();
    }
}
