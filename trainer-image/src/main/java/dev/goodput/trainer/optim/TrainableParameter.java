package dev.goodput.trainer.optim;

import ai.djl.ndarray.NDArray;

/** A parameter to update: its stable name (the optimizer state key), its value and its gradient for this step. */
public record TrainableParameter(String name, NDArray value, NDArray gradient) {}
