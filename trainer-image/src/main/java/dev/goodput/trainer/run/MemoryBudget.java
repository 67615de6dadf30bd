package dev.goodput.trainer.run;

/** A memory budget in bytes (0 or less: none) and where it comes from, as a user would find it. */
public record MemoryBudget(long bytes, String source) {
    public boolean present() {
        return bytes > 0;
    }
}
