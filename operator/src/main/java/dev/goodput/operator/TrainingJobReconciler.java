package dev.goodput.operator;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;

@ControllerConfiguration(name = "trainingjob")
public class TrainingJobReconciler implements Reconciler<TrainingJob> {
    @Override
    public UpdateControl<TrainingJob> reconcile(TrainingJob resource, Context<TrainingJob> context) {
        return UpdateControl.noUpdate();
    }
}
