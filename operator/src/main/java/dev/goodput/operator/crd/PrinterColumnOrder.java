package dev.goodput.operator.crd;

import dev.goodput.operator.TrainingJob;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Runs inside QOSDK's CRD generation (quarkus.operator-sdk.crd.post-processor-class) and puts the printer columns in
 * the order they are declared on {@link TrainingJob}. Fabric8's generator sorts them by JSON path, which would make
 * {@code kubectl get tj} print AGE first and PHASE in the middle.
 */
public class PrinterColumnOrder implements CRDPostProcessor {
    @Override
    public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
        if (crd instanceof CustomResourceDefinition v1 && TrainingJob.CRD_NAME.equals(crd.getMetadata().getName())) {
            List<String> order = Arrays.stream(TrainingJob.class.getAnnotationsByType(AdditionalPrinterColumn.class))
                    .map(AdditionalPrinterColumn::jsonPath).toList();
            Comparator<CustomResourceColumnDefinition> declared = Comparator.comparingInt(c -> {
                int i = order.indexOf(c.getJsonPath());
                return i < 0 ? Integer.MAX_VALUE : i;
            });
            v1.getSpec().getVersions().forEach(v -> {
                if (v.getAdditionalPrinterColumns() != null) {
                    v.getAdditionalPrinterColumns().sort(declared);
                }
            });
        }
        return crd;
    }
}
