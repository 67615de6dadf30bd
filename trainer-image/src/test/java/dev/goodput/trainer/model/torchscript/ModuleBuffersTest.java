package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Buffers found wherever a module keeps them (nn.Sequential children, a ModuleList, the root module; traced classes
 * with mangled names), in PyTorch's named_buffers() order with PyTorch's values, and written back in place.
 */
class ModuleBuffersTest {
    NDManager manager;
    TorchScriptModel model;
    Map<String, List<Double>> expected;

    @BeforeEach
    void setUp() throws Exception {
        manager = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
        model = TorchScriptLoader.load(resource("nested_buffers.pt"), manager, TorchScriptLoaderTest.ONE, 10);
        try (InputStream in = getClass().getResourceAsStream("nested_buffers.json")) {
            expected = new ObjectMapper().readValue(in, new TypeReference<LinkedHashMap<String, List<Double>>>() {});
        }
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(ModuleBuffersTest.class.getResource(name).toURI());
    }

    @Test
    void namesAndValuesAreThoseOfPyTorch() {
        assertThat(model.buffers().names()).containsExactlyElementsOf(expected.keySet());
        Map<String, byte[]> read = model.buffers().read();
        try (NDManager scratch = manager.newSubManager()) {
            for (String name : expected.keySet()) {
                double[] values = scratch.decode(read.get(name)).toType(DataType.FLOAT64, false).toDoubleArray();
                assertThat(values).as(name).containsExactly(expected.get(name).stream().mapToDouble(d -> d).toArray());
            }
        }
    }

    @Test
    void writtenBuffersAreTheModulesOwn() {
        Map<String, byte[]> changed = new LinkedHashMap<>();
        try (NDManager scratch = manager.newSubManager()) {
            model.buffers().read().forEach((name, bytes) -> {
                NDArray a = scratch.decode(bytes);
                changed.put(name, (a.getDataType() == DataType.INT64 ? a.add(5) : a.mul(2).add(0.5f)).encode());
            });
        }
        model.buffers().write(changed);
        releaseFreedMemory();
        // Read afresh from the module. (Its eval logits would not show it: a module traced in train mode runs
        // BatchNorm with batch statistics in either mode. TorchScriptCheckpointTest shows it on a scripted one.)
        assertThat(model.buffers().read().values()).containsExactlyElementsOf(changed.values());
    }

    @Test
    void buffersOfAnotherShapeAreRefused() {
        Map<String, byte[]> wrong = new LinkedHashMap<>(model.buffers().read());
        try (NDManager scratch = manager.newSubManager()) {
            wrong.put("stem.1.running_mean", scratch.zeros(new ai.djl.ndarray.types.Shape(5)).encode());
        }
        assertThatThrownBy(() -> model.buffers().write(wrong)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stem.1.running_mean");
        Map<String, byte[]> missing = new LinkedHashMap<>(model.buffers().read());
        missing.remove("calls");
        assertThatThrownBy(() -> model.buffers().write(missing)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("do not match");
    }

    /**
     * Collects garbage and reuses memory, so that a buffer left pointing at memory that is no longer its own (as
     * DJL's NDArray.set(Buffer) leaves a tensor whose handle is closed) reads as garbage.
     */
    private void releaseFreedMemory() {
        for (int r = 0; r < 3; r++) {
            System.gc();
            java.util.List<java.nio.ByteBuffer> junk = new java.util.ArrayList<>();
            for (int i = 0; i < 100; i++) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(4096);
                while (b.hasRemaining()) b.put((byte) 0x7F);
                junk.add(b);
            }
            try (NDManager s = manager.newSubManager()) {
                for (int i = 0; i < 100; i++) s.full(new ai.djl.ndarray.types.Shape(64), 3.5f).add(1);
            }
        }
    }
}
