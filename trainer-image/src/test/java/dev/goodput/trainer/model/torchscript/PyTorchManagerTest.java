package dev.goodput.trainer.model.torchscript;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A fresh PyTorch NDManager for each test, closed after it: what every TorchScript test here trains on. */
abstract class PyTorchManagerTest {
    NDManager manager;

    @BeforeEach
    void openManager() {
        manager = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }
}
