package dev.goodput.trainer.console;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** The final two-column table a local run ends with. */
public final class SummaryTable {
    private final List<String[]> rows = new ArrayList<>();

    public SummaryTable row(String name, String value) {
        rows.add(new String[] {name, value});
        return this;
    }

    public void print(PrintStream out) {
        int w0 = 0;
        int w1 = 0;
        for (String[] r : rows) {
            w0 = Math.max(w0, r[0].length());
            w1 = Math.max(w1, r[1].length());
        }
        String sep = "+" + "-".repeat(w0 + 2) + "+" + "-".repeat(w1 + 2) + "+";
        out.println(sep);
        for (String[] r : rows) {
            out.println("| " + r[0] + " ".repeat(w0 - r[0].length()) + " | " + " ".repeat(w1 - r[1].length()) + r[1] + " |");
        }
        out.println(sep);
    }
}
