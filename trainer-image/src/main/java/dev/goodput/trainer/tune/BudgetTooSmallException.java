package dev.goodput.trainer.tune;

/** Not even the smallest micro-batch fits the memory budget; says how much the smallest probe needed. */
public class BudgetTooSmallException extends IllegalArgumentException {
    public BudgetTooSmallException(int micro, long neededBytes, long budgetBytes) {
        super("spec.training.memoryBudget: " + BatchSizeTuner.mib(budgetBytes) + " is too small: the smallest probe (micro-batch "
                + micro + ") needed " + BatchSizeTuner.mib(neededBytes) + "; raise the budget (or resources.memory) or use a smaller model");
    }
}
