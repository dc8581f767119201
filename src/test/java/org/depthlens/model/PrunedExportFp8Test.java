package org.depthlens.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.cli.Main;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.DType;
import org.depthlens.weights.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeepSeek-V3 stored as its released checkpoints are (FP8 E4M3 linear weights with F32 block scales, quantised by
 * {@link Fp8ForwardTest}'s own encoder, partial edge blocks included): prune copies every FP8 byte and every scale
 * under the new block numbers, keeps quantization_config, and the export runs like the source without the block.
 */
class PrunedExportFp8Test {
    @TempDir
    Path tmp;

    @Test
    void fp8WeightsAndTheirScalesAreCopiedAsTheyAre() throws Exception {
        Fp8ForwardTest quantiser = new Fp8ForwardTest();
        quantiser.tmp = tmp;
        Fp8ForwardTest.Derived d = quantiser.derive("fp8", new int[] {50, 52}, new int[] {50, 52});
        Path ids = tmp.resolve("ids.json");
        Files.writeString(ids, "[[1,5,9,13,17,21,25,29,33,37,41,45,49,53,57,61],[2,4,8,16,32,64,128,3,6,12,24,48,96,192,7,14]]");
        Path out = tmp.resolve("out");
        StringWriter so = new StringWriter(), se = new StringWriter();
        int code = Main.run(new PrintWriter(so, true), new PrintWriter(se, true), "prune", "-m", d.dir().toString(), "--drop", "2",
                "--ids", ids.toString(), "-o", out.toString());
        assertEquals(0, code, se.toString());
        JsonNode rec = new ObjectMapper().readTree(out.resolve("depthlens_prune.json").toFile());
        assertEquals(0.0, rec.get("verification").get("relative_difference").asDouble(), 1e-6);
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("[50,52]", cfg.get("quantization_config").get("weight_block_size").toString());
        int fp8 = 0;
        try (Checkpoint a = Checkpoint.open(d.dir()); Checkpoint b = Checkpoint.open(out)) {
            for (TensorInfo t : a.tensors().values()) {
                String to = t.name().startsWith("model.layers.2.") ? null
                        : t.name().startsWith("model.layers.3.") ? t.name().replace("model.layers.3.", "model.layers.2.") : t.name();
                if (to == null) continue;
                TensorInfo u = b.require(to);
                assertEquals(t.dtype(), u.dtype(), to);
                assertArrayEquals(bytes(a, t), bytes(b, u), to);
                if (t.dtype() == DType.F8_E4M3) fp8++;
            }
        }
        assertTrue(fp8 > 20, "FP8 tensors compared: " + fp8);
    }

    static byte[] bytes(Checkpoint c, TensorInfo t) {
        ByteBuffer b = ByteBuffer.allocate((int) (t.numel() * t.dtype().size()));
        c.files().stream().filter(f -> f.path().equals(t.file())).findFirst().orElseThrow().readBytes(t, 0, t.numel(), b);
        return b.array();
    }
}
