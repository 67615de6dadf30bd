package dev.goodput.operator;

import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.spec.TrainingSpec;
import dev.goodput.api.status.TrainingJobStatus;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.SchemaSwap;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * The TrainingJob custom resource. Spec and status are the plain types of the shared {@code api} module, so the
 * operator and the trainer read one definition; the CRD (crds/trainingjobs.goodput.dev-v1.yml) is generated from
 * them at build time by QOSDK.
 *
 * <p>{@code spec.training.batchSize} is a String ({@code auto} or a number) in Java, and an int-or-string in the CRD
 * so that both {@code batchSize: 64} and {@code batchSize: auto} are accepted; its values are checked by the CEL
 * rules on {@link TrainingSpec}.
 */
@Group(TrainingJob.GROUP)
@Version(TrainingJob.VERSION)
@ShortNames("tj")
@SchemaSwap(originalType = TrainingSpec.class, fieldName = "batchSize", targetType = IntOrString.class)
@AdditionalPrinterColumn(name = "Phase", type = AdditionalPrinterColumn.Type.STRING, jsonPath = ".status.phase")
@AdditionalPrinterColumn(name = "Step", type = AdditionalPrinterColumn.Type.INTEGER, jsonPath = ".status.progress.step")
@AdditionalPrinterColumn(name = "Epoch", type = AdditionalPrinterColumn.Type.INTEGER, jsonPath = ".status.progress.epoch")
@AdditionalPrinterColumn(name = "Samples/s", type = AdditionalPrinterColumn.Type.NUMBER,
        jsonPath = ".status.progress.samplesPerSecond")
@AdditionalPrinterColumn(name = "Cost", type = AdditionalPrinterColumn.Type.NUMBER, jsonPath = ".status.cost",
        getDescription = "Dollars spent so far")
@AdditionalPrinterColumn(name = "Age", type = AdditionalPrinterColumn.Type.DATE, jsonPath = ".metadata.creationTimestamp")
public class TrainingJob extends CustomResource<TrainingJobSpec, TrainingJobStatus> implements Namespaced {
    public static final String GROUP = "goodput.dev";
    public static final String VERSION = "v1alpha1";
    public static final String CRD_NAME = "trainingjobs." + GROUP;

    @Override
    protected TrainingJobStatus initStatus() {
        return new TrainingJobStatus();
    }
}
