package dev.goodput.trainer.model.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BertConfigTest {

    @Test
    void readsMiniLmsConfig() {
        BertConfig c = BertConfig.read(MiniLm.folder().resolve("config.json"));
        assertThat(c).isEqualTo(new BertConfig(30522, 384, 6, 12, 1536, 512, 2, 1e-12f, 0.1f, 0.1f, 0, 0.02f));
        assertThat(c.headSize()).isEqualTo(32);
    }

    @Test
    void refusesWhatTheEncoderWouldComputeDifferently(@TempDir Path dir) throws IOException {
        String bert = Files.readString(MiniLm.folder().resolve("config.json"));
        assertThatThrownBy(() -> read(dir, bert.replace("\"model_type\": \"bert\"", "\"model_type\": \"roberta\"")))
                .hasMessageContaining("model_type roberta is not supported");
        assertThatThrownBy(() -> read(dir, bert.replace("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"gelu_new\"")))
                .hasMessageContaining("hidden_act gelu_new is not supported");
        assertThatThrownBy(() -> read(dir, bert.replace("\"absolute\"", "\"relative_key\"")))
                .hasMessageContaining("position_embedding_type relative_key");
        assertThatThrownBy(() -> read(dir, bert.replace("\"num_attention_heads\": 12", "\"num_attention_heads\": 7")))
                .hasMessageContaining("not a multiple of num_attention_heads 7");
        assertThatThrownBy(() -> read(dir, bert.replace("\"hidden_size\": 384,", "")))
                .hasMessageContaining("hidden_size is missing");
    }

    private static BertConfig read(Path dir, String json) throws IOException {
        Path f = dir.resolve("config.json");
        Files.writeString(f, json);
        return BertConfig.read(f);
    }
}
