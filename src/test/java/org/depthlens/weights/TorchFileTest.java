package org.depthlens.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PyTorch .bin files written by a real torch (src/test/resources/torchbin/make_torchbin.py, torch
 * 1.13; the lns_code fixtures by torch 2.x), against what that script read back with torch itself
 * and wrote as JSON: names, dtypes, shapes and every value, bit for bit, through every decoding path.
 */
class TorchFileTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** Copies resource {@code torchbin/name} to the temp folder (as {@code as}). */
    Path resource(String name, String as) {
        Path p = tmp.resolve(as);
        return Files.exists(p) ? p : TorchZip.copyResource(name, p);
    }

    static JsonNode json(String name) throws IOException {
        try (InputStream in = TorchFileTest.class.getResourceAsStream("/torchbin/" + name)) {
            return JSON.readTree(in);
        }
    }

    @Test
    void viewsMatchTorchThroughEveryPath() throws Exception {
        for (String file : List.of("views.bin", "views_protocol4.bin", "views_dict.bin")) checkViews(resource(file, file));
    }

    /** Every zip field in its zip64 form, though the file is small. */
    @Test
    void zip64FieldsEverywhere() throws Exception {
        Path p = tmp.resolve("zip64.bin");
        TorchZip.write(p, TorchZip.entries(TorchZip.read(resource("views.bin", "views.bin"))), true);
        checkViews(p);
    }

    /**
     * An archive of 4.3 GB whose storages all start past 4 GiB: a hole of zeros (an entry torch would
     * not write, which the reader ignores) comes first, so the offsets of every later entry and the
     * central directory need zip64, and the hole's own size does too. Sparse: no disk, no time.
     */
    @Test
    void archiveOver4GB() throws Exception {
        List<TorchZip.Entry> entries = new ArrayList<>();
        entries.add(new TorchZip.Entry("views/filler", null, (1L << 32) + (300L << 20)));
        entries.addAll(TorchZip.entries(TorchZip.read(resource("views.bin", "views.bin"))));
        Path p = tmp.resolve("big.bin");
        TorchZip.write(p, entries, false);
        assertTrue(Files.size(p) > (1L << 32), "file of " + Files.size(p) + " bytes");
        checkViews(p);
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertTrue(ck.require("emb").fileOffset() > (1L << 32));
        }
    }

    private static void checkViews(Path p) throws Exception {
        JsonNode expected = json("views.json").get("tensors");
        String file = p.getFileName().toString();
        try (Checkpoint ck = Checkpoint.open(p)) {
            assertEquals("pytorch", ck.format());
            assertEquals(names(expected), new TreeSet<>(ck.tensors().keySet()), file);
            for (Iterator<Map.Entry<String, JsonNode>> it = expected.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                JsonNode want = e.getValue();
                TensorInfo t = ck.require(name);
                String what = file + " " + name;
                assertEquals(want.get("dtype").asText(), t.dtype().name(), what);
                assertArrayEquals(longs(want.get("shape")), t.shape(), what);
                TorchFile tf = (TorchFile) ck.files().get(0);
                assertEquals(want.get("contiguous").asBoolean(), tf.isContiguous(t), what + " contiguous");
                JsonNode values = want.get("values");
                if (t.dtype().isFloat()) {
                    float[] v = new float[values.size()];
                    for (int i = 0; i < v.length; i++) v[i] = (float) values.get(i).asDouble();
                    TestSupport.assertAllPaths(ck, name, v, false);
                    if (v.length > 2) { // a range that starts inside the tensor
                        FloatBuffer fb = FloatBuffer.allocate(v.length - 1);
                        ck.read(name, 1, v.length - 1, fb);
                        TestSupport.assertBits(java.util.Arrays.copyOfRange(v, 1, v.length), fb.array(), what + " from 1", false);
                    }
                } else {
                    assertArrayEquals(longs(values), tf.readLongs(t), what);
                }
            }
            // the same storage, offsets in bytes as torch says
            TensorInfo emb = ck.require("emb");
            TensorInfo tied = ck.require("tied");
            assertEquals(emb.dataStart(), tied.dataStart());
            assertEquals(emb.begin(), tied.begin());
            assertEquals(emb.dataStart(), ck.require("row2").dataStart());
            assertEquals(8 * 4, ck.require("row2").begin());
            assertEquals(13 * 4, ck.require("scalar_view").begin());
        }
    }

    @Test
    void twoDimensionalRowsOfAStridedTensor() throws Exception {
        JsonNode want = json("views.json").get("tensors").get("transposed");
        try (Checkpoint ck = Checkpoint.open(resource("views.bin", "views.bin"))) {
            long[] shape = ck.require("transposed").shape(); // [5, 3], strides (1, 5)
            org.nd4j.linalg.api.ndarray.INDArray rows = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 2, shape[1]);
            ck.loadRows("transposed", 2, 2, rows);
            float[] got = TestSupport.flat(rows);
            for (int i = 0; i < got.length; i++) assertEquals((float) want.get("values").get((int) (2 * shape[1]) + i).asDouble(), got[i], 0f);
        }
    }

    @Test
    void everyLnsCodeCheckpointReadsAsTorchReadsIt() throws Exception {
        JsonNode fixtures = json("lns_code_expected.json").get("fixtures");
        int checked = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = fixtures.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> fx = it.next();
            Path dir = fx.getKey().equals("tiny-curse-24-lns-code") ? Fixtures.shared().resolve("checkpoints/tiny-curse-24-lns-code/lns")
                    : Fixtures.shared().resolve("fixtures/lns_code").resolve(fx.getKey()).resolve("model");
            JsonNode tensors = fx.getValue().get("tensors");
            try (Checkpoint ck = Checkpoint.open(dir)) {
                assertEquals("pytorch", ck.format(), fx.getKey());
                assertEquals(fx.getValue().get("files").size(), ck.files().size(), fx.getKey());
                assertEquals(names(tensors), new TreeSet<>(ck.tensors().keySet()), fx.getKey());
                for (Iterator<Map.Entry<String, JsonNode>> ti = tensors.fields(); ti.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = ti.next();
                    String what = fx.getKey() + " " + e.getKey();
                    JsonNode want = e.getValue();
                    TensorInfo t = ck.require(e.getKey());
                    assertEquals(want.get("dtype").asText(), t.dtype().name(), what);
                    assertArrayEquals(longs(want.get("shape")), t.shape(), what);
                    assertEquals(want.get("file").asText(), t.file().getFileName().toString(), what);
                    float[] v = TestSupport.flat(ck.load(e.getKey()));
                    JsonNode first = want.get("first");
                    for (int i = 0; i < first.size(); i++) assertEquals((float) first.get(i).asDouble(), v[i], 0f, what + " element " + i);
                    assertEquals((float) want.get("last").asDouble(), v[v.length - 1], 0f, what + " last");
                    double sum = 0;
                    for (float x : v) sum += x;
                    double ref = want.get("sum").asDouble();
                    assertEquals(ref, sum, 1e-9 * Math.max(1, Math.abs(ref)) * v.length, what + " sum");
                    checked++;
                }
            }
        }
        assertTrue(checked > 600, "tensors checked: " + checked);
    }

    @Test
    void safetensorsWinWhenBothArePresent() throws Exception {
        Path dir = tmp.resolve("both");
        Files.createDirectories(dir);
        Path hf = Fixtures.hf("llama").resolve("model");
        try (Stream<Path> s = Files.list(hf)) {
            for (Path p : s.toList()) Files.copy(p, dir.resolve(p.getFileName()));
        }
        resource("views.bin", "both/pytorch_model.bin");
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals("safetensors", ck.format());
            assertEquals(List.of("pytorch_model.bin"), ck.shadowed());
            assertFalse(ck.has("emb"));
            assertTrue(ck.has("model.embed_tokens.weight"));
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.toString().endsWith(".safetensors")).toList()) Files.delete(p);
        }
        try (Checkpoint ck = Checkpoint.open(dir)) {
            assertEquals("pytorch", ck.format());
            assertEquals(List.of(), ck.shadowed());
            assertTrue(ck.has("emb"));
        }
    }

    @Test
    void hostilePicklesAreRefusedWithoutRunningThem() throws Exception {
        Path marker = Path.of("/tmp/depthlens-pickle-was-executed");
        Files.deleteIfExists(marker);
        for (String[] c : new String[][] {{"os_system.bin", "'posix.system'"}, {"builtins_eval.bin", "'__builtin__.eval'"}}) {
            Path p = resource(c[0], c[0]);
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> TorchFile.open(p));
            TestSupport.assertOneLine(e, p, null);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("data.pkl"), e.getMessage());
        }
        assertFalse(Files.exists(marker), "the pickle ran");
    }

    @Test
    void otherShapesOfFileAreRefusedByName() throws Exception {
        Path legacy = resource("legacy.bin", "legacy.bin");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> TorchFile.open(legacy));
        TestSupport.assertOneLine(e, legacy, null);
        assertTrue(e.getMessage().contains("legacy torch.save format"), e.getMessage());

        Path nested = resource("nested.bin", "nested.bin");
        e = assertThrows(SafetensorsException.class, () -> TorchFile.open(nested));
        TestSupport.assertOneLine(e, nested, "model");
        assertTrue(e.getMessage().contains("not a tensor"), e.getMessage());

        Path text = tmp.resolve("text.bin");
        Files.writeString(text, "hello, not a checkpoint");
        e = assertThrows(SafetensorsException.class, () -> TorchFile.open(text));
        TestSupport.assertOneLine(e, text, null);
        assertTrue(e.getMessage().contains("not a torch.save zip archive"), e.getMessage());
    }

    static TreeSet<String> names(JsonNode obj) {
        TreeSet<String> out = new TreeSet<>();
        obj.fieldNames().forEachRemaining(out::add);
        return out;
    }

    static long[] longs(JsonNode arr) {
        List<Long> l = new ArrayList<>();
        arr.forEach(x -> l.add(x.asLong()));
        return l.stream().mapToLong(Long::longValue).toArray();
    }
}
