package org.depthlens.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.depthlens.weights.Raw.shape;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** index.json + 3 hand-made shards of mixed dtypes. */
class ShardedCheckpointTest {
    @TempDir
    Path dir;

    static final String S1 = "model-00001-of-00003.safetensors";
    static final String S2 = "model-00002-of-00003.safetensors";
    static final String S3 = "model-00003-of-00003.safetensors";

    static void writeShards(Path dir) throws Exception {
        new Raw().metadata("{\"format\":\"pt\"}")
                .add("model.embed_tokens.weight", "F32", shape(2, 3), Raw.f32(1, -2, 3, -4, 5, -6))
                .add("model.layers.0.input_layernorm.weight", "BF16", shape(3), Raw.u16(0x3F80, 0x4000, 0xBF80))
                .write(dir.resolve(S1));
        new Raw().add("model.layers.0.mlp.down_proj.weight", "F16", shape(2, 2), Raw.u16(0x3C00, 0xC000, 0x3800, 0x0001))
                .add("model.layers.0.self_attn.o_proj.weight", "F64", shape(2), Raw.f64(0.5, -0.125))
                .write(dir.resolve(S2));
        new Raw().add("lm_head.weight", "F32", shape(3, 2), Raw.f32(0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f))
                .add("model.norm.weight", "BF16", shape(3), Raw.u16(0x3F00, 0x3E80, 0x3E00))
                .write(dir.resolve(S3));
        Files.writeString(dir.resolve(Checkpoint.INDEX), """
                {"metadata": {"total_size": 96},
                 "weight_map": {
                  "lm_head.weight": "%3$s",
                  "model.embed_tokens.weight": "%1$s",
                  "model.layers.0.input_layernorm.weight": "%1$s",
                  "model.layers.0.mlp.down_proj.weight": "%2$s",
                  "model.layers.0.self_attn.o_proj.weight": "%2$s",
                  "model.norm.weight": "%3$s"}}
                """.formatted(S1, S2, S3));
    }

    @Test
    void readsEveryTensorFromItsShard() throws Exception {
        writeShards(dir);
        Files.write(dir.resolve("stray.safetensors"), new byte[] {1, 2, 3}); // not in the index: never opened
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(3, ck.files().size());
            assertEquals(List.of("lm_head.weight", "model.embed_tokens.weight", "model.layers.0.input_layernorm.weight",
                    "model.layers.0.mlp.down_proj.weight", "model.layers.0.self_attn.o_proj.weight", "model.norm.weight"),
                    List.copyOf(ck.tensors().keySet()));
            assertEquals(S2, ck.require("model.layers.0.mlp.down_proj.weight").file().getFileName().toString());
            assertArrayEquals(new float[] {1, -2, 3, -4, 5, -6}, TestSupport.flat(ck.load("model.embed_tokens.weight")));
            assertArrayEquals(new float[] {1, 2, -1}, TestSupport.flat(ck.load("model.layers.0.input_layernorm.weight")));
            assertArrayEquals(new float[] {1, -2, 0.5f, 0x1p-24f}, TestSupport.flat(ck.load("model.layers.0.mlp.down_proj.weight")));
            assertArrayEquals(new float[] {0.5f, -0.125f}, TestSupport.flat(ck.load("model.layers.0.self_attn.o_proj.weight")));
            assertArrayEquals(new float[] {0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 5.5f}, TestSupport.flat(ck.load("lm_head.weight")));
            assertArrayEquals(new float[] {0.5f, 0.25f, 0.125f}, TestSupport.flat(ck.load("model.norm.weight")));
            assertEquals("pt", ((SafetensorsFile) ck.files().get(0)).metadata().get("format"));
            long sum = 0;
            for (String s : new String[] {S1, S2, S3}) sum += Files.size(dir.resolve(s));
            assertEquals(sum, ck.totalBytes());
        }
    }

    @Test
    void indexSayingTheWrongShardIsRefused() throws Exception {
        writeShards(dir);
        Path index = dir.resolve(Checkpoint.INDEX);
        Files.writeString(index, Files.readString(index).replace("\"model.norm.weight\": \"" + S3, "\"model.norm.weight\": \"" + S1));
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Checkpoint.open(dir));
        TestSupport.assertOneLine(e, index, "model.norm.weight");
    }

    @Test
    void indexNamingATensorNoShardHasIsRefused() throws Exception {
        writeShards(dir);
        Path index = dir.resolve(Checkpoint.INDEX);
        Files.writeString(index, Files.readString(index).replace("\"lm_head.weight\"", "\"lm_head.bias\": \"" + S3 + "\", \"lm_head.weight\""));
        TestSupport.assertOneLine(assertThrows(SafetensorsException.class, () -> Checkpoint.open(dir)), index, "lm_head.bias");
    }

    @Test
    void writerShardsRoundTrip() throws Exception {
        java.util.Map<String, SafetensorsWriter.Tensor> m = new java.util.TreeMap<>();
        for (int i = 0; i < 7; i++) {
            float[] v = new float[10 + i];
            for (int k = 0; k < v.length; k++) v[k] = i * 100 + k;
            m.put("t" + i, SafetensorsWriter.Tensor.f32(shape(v.length), v));
        }
        List<Path> shards = SafetensorsWriter.writeSharded(dir, m, 100, java.util.Map.of("format", "pt"));
        assertEquals(5, shards.size());
        assertEquals("model-00001-of-00005.safetensors", shards.get(0).getFileName().toString());
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals(5, ck.files().size());
            for (int i = 0; i < 7; i++) assertEquals(i * 100 + 9, ck.load("t" + i).getFloat(9));
        }
        String index = Files.readString(dir.resolve(Checkpoint.INDEX));
        assertFalse(index.contains("partial"));
        assertEquals(true, index.contains("\"total_size\" : " + (4 * (10 + 11 + 12 + 13 + 14 + 15 + 16))));
    }
}
