package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code helm lint} passes with no warning and no error, plain and with --strict, for the main value sets. */
class HelmLintTest {

    @Test
    void helmIsTheExpectedVersion() {
        Helm.Result r = Helm.run("version", "--short");
        assertThat(r.exitCode()).as(r.all()).isZero();
        if (System.getenv("GOODPUT_HELM") == null) {
            assertThat(r.stdout()).startsWith("v" + Helm.VERSION);
        } else {
            assertThat(r.stdout()).matches("(?s)v[34]\\..*");
        }
    }

    static Stream<Arguments> valueSets() {
        return Stream.of(
                Arguments.of("defaults", new String[0]),
                Arguments.of("monitoring on", new String[] {"--set", "monitoring.serviceMonitor.enabled=true",
                        "--set", "monitoring.podMonitor.enabled=true"}),
                Arguments.of("namespace list", new String[] {"--set", "watchNamespaces={team-a,team-b}"}),
                Arguments.of("no rbac, no dashboards", new String[] {"--set", "rbac.create=false",
                        "--set", "dashboards.enabled=false", "--set", "serviceAccount.create=false"}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueSets")
    void lintsCleanly(String name, String[] flags) {
        for (boolean strict : new boolean[] {false, true}) {
            List<String> args = new ArrayList<>(List.of("lint", Helm.chart().toString(), "--namespace", Helm.NAMESPACE));
            if (strict) {
                args.add("--strict");
            }
            args.addAll(Arrays.asList(flags));
            Helm.Result r = Helm.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as("helm %s%n%s", String.join(" ", args), r.all()).isZero();
            assertThat(r.all()).as("helm %s", String.join(" ", args))
                    .doesNotContain("[WARNING]").doesNotContain("[ERROR]")
                    .contains("1 chart(s) linted, 0 chart(s) failed");
        }
    }
}
