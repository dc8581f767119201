package org.depthlens.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.depthlens.weights.Raw.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per malformed input: each is a SafetensorsException with a one-line message naming the file (and tensor). */
class ValidationTest {
    @TempDir
    Path dir;

    private Path file(byte[] bytes) throws Exception {
        Path p = dir.resolve("bad.safetensors");
        Files.write(p, bytes);
        return p;
    }

    private SafetensorsException rejects(byte[] bytes, String tensor, String... fragments) throws Exception {
        Path p = file(bytes);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p).close());
        TestSupport.assertOneLine(e, p, tensor);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        // the checkpoint loader reports the same problem
        SafetensorsException e2 = assertThrows(SafetensorsException.class, () -> Checkpoint.open(dir).close());
        assertEquals(e.getMessage(), e2.getMessage());
        return e;
    }

    private static byte[] header(String json, byte[] data) {
        return Raw.file(json, data);
    }

    private static String entry(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void fileShorterThan8Bytes() throws Exception {
        rejects(new byte[5], null, "5 bytes", "shorter than");
        rejects(new byte[0], null, "0 bytes");
    }

    @Test
    void headerLengthPastEndOfFile() throws Exception {
        byte[] h = "{}".getBytes(StandardCharsets.UTF_8);
        rejects(Raw.file(1000, h, new byte[0]), null, "header length 1000", "past the end");
    }

    @Test
    void headerLengthOver100MB() throws Exception {
        rejects(Raw.file(100_000_001L, "{}".getBytes(), new byte[0]), null, "100000001", "100 MB");
        rejects(Raw.file(-1L, "{}".getBytes(), new byte[0]), null, "18446744073709551615", "100 MB");
        rejects(Raw.file(1L << 40, "{}".getBytes(), new byte[0]), null, "100 MB");
    }

    @Test
    void headerNotJson() throws Exception {
        rejects(header("{\"a\":", new byte[0]), null, "not valid JSON");
        rejects(header("{garbage}", new byte[0]), null, "not valid JSON");
        rejects(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}x", new byte[4]), null, "not valid JSON");
        rejects(header("{}{}", new byte[0]), null, "not valid JSON");
        rejects(header("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", new byte[4]), null, "not valid JSON");
        rejects(Raw.file(2, new byte[] {'{', 0}, new byte[0]), null, "JSON"); // NUL, also not UTF-16 auto-detected
    }

    @Test
    void headerNotValidUtf8() throws Exception {
        byte[] h = {'{', '"', 'a', (byte) 0xFF, '"', ':', '1', '}'};
        rejects(Raw.file(h.length, h, new byte[0]), null, "UTF-8");
        byte[] overlong = {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', ':', '1', '}'};
        rejects(Raw.file(overlong.length, overlong, new byte[0]), null, "UTF-8");
    }

    @Test
    void headerNotAnObject() throws Exception {
        rejects(header("[1,2]", new byte[0]), null, "not a JSON object");
        rejects(header("\"str\"", new byte[0]), null, "not a JSON object");
        rejects(header(" {}", new byte[0]), null, "not a JSON object"); // the reference requires '{' first
        rejects(Raw.file(0, new byte[0], new byte[0]), null, "empty");
        rejects(header("{\"t\":[1,2]}", new byte[0]), "t", "not an object");
        rejects(header("{\"__metadata__\":[]}", new byte[0]), null, "__metadata__");
        rejects(header("{\"__metadata__\":{\"a\":1}}", new byte[0]), null, "__metadata__", "'a'");
    }

    @Test
    void unknownDtype() throws Exception {
        for (String d : new String[] {"F8_E8M0", "f32", "Q4_0", "", "F4"}) {
            rejects(header("{" + entry("w", d, "[1]", "[0,1]") + "}", new byte[1]), "w", "unknown dtype");
        }
        rejects(header("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]), "w", "dtype");
        rejects(header("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", new byte[1]), "w", "missing dtype");
    }

    @Test
    void dataOffsetsOutOfRange() throws Exception {
        rejects(header("{" + entry("w", "F32", "[2]", "[0,8]") + "}", new byte[4]), "w", "outside the data buffer of 4 bytes");
        rejects(header("{" + entry("w", "F32", "[1]", "[4,0]") + "}", new byte[4]), "w", "outside");
        rejects(header("{" + entry("w", "F32", "[1]", "[-4,0]") + "}", new byte[4]), "w", "negative");
        rejects(header("{" + entry("w", "F32", "[1]", "[0,99999999999999999999]") + "}", new byte[4]), "w", "out of range");
        rejects(header("{" + entry("w", "F32", "[1]", "[0,4,8]") + "}", new byte[4]), "w", "data_offsets");
        rejects(header("{" + entry("w", "F32", "[1]", "[0]") + "}", new byte[4]), "w", "data_offsets");
        rejects(header("{" + entry("w", "F32", "[1]", "[0,4.0]") + "}", new byte[4]), "w", "data_offsets");
        rejects(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", new byte[4]), "w", "data_offsets");
    }

    @Test
    void dataOffsetsOverlapping() throws Exception {
        rejects(header("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[4,12]") + "}", new byte[12]),
                "b", "overlap");
        rejects(header("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("b", "F32", "[2]", "[0,8]") + "}", new byte[8]),
                null, "overlap");
        // a zero-size tensor inside another one
        rejects(header("{" + entry("a", "F32", "[2]", "[0,8]") + "," + entry("z", "F32", "[0]", "[4,4]") + "}", new byte[8]),
                "z", "overlap");
    }

    @Test
    void dataOffsetsWithGaps() throws Exception {
        rejects(header("{" + entry("a", "F32", "[1]", "[0,4]") + "," + entry("b", "F32", "[1]", "[8,12]") + "}", new byte[12]),
                "b", "gap of 4 bytes");
        rejects(header("{" + entry("a", "F32", "[1]", "[4,8]") + "}", new byte[8]), "a", "gap");
    }

    @Test
    void trailingBytes() throws Exception {
        rejects(header("{" + entry("a", "F32", "[1]", "[0,4]") + "}", new byte[7]), null, "3 trailing bytes");
        rejects(header("{}", new byte[1]), null, "trailing");
    }

    @Test
    void sizeNotNumelTimesDtypeSize() throws Exception {
        rejects(header("{" + entry("w", "BF16", "[2,3]", "[0,8]") + "}", new byte[8]), "w", "holds 8 bytes", "needs 12");
        rejects(header("{" + entry("w", "F32", "[]", "[0,8]") + "}", new byte[8]), "w", "needs 4");
        rejects(header("{" + entry("w", "F32", "[0,5]", "[0,4]") + "}", new byte[4]), "w", "needs 0");
    }

    @Test
    void negativeOrAbsurdShape() throws Exception {
        rejects(header("{" + entry("w", "F32", "[-1]", "[0,4]") + "}", new byte[4]), "w", "negative");
        rejects(header("{" + entry("w", "F32", "[1099511627776,1099511627776]", "[0,4]") + "}", new byte[4]), "w", "absurd");
        rejects(header("{" + entry("w", "F64", "[1152921504606846976]", "[0,8]") + "}", new byte[8]), "w", "absurd");
        rejects(header("{" + entry("w", "F32", "[18446744073709551616]", "[0,4]") + "}", new byte[4]), "w", "out of range");
        rejects(header("{" + entry("w", "F32", "[2.0]", "[0,8]") + "}", new byte[8]), "w", "shape");
        rejects(header("{" + entry("w", "F32", "\"[2]\"", "[0,8]") + "}", new byte[8]), "w", "shape");
        rejects(header("{" + entry("w", "F32", "[[2]]", "[0,8]") + "}", new byte[8]), "w", "shape");
        rejects(header("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4]), "w", "missing shape");
        String rank = "[" + "1,".repeat(SafetensorsFile.MAX_RANK) + "1]";
        rejects(header("{" + entry("w", "F32", rank, "[0,4]") + "}", new byte[4]), "w", "more than 1024");
    }

    @Test
    void duplicateNamesAndKeys() throws Exception {
        rejects(header("{" + entry("w", "F32", "[1]", "[0,4]") + "," + entry("w", "F32", "[1]", "[4,8]") + "}", new byte[8]),
                "w", "duplicate");
        rejects(header("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]),
                "w", "duplicate key 'dtype'");
        rejects(header("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", new byte[0]), null, "duplicate");
    }

    /** Names from a hostile header cannot break the one-line rule. */
    @Test
    void controlCharactersInNamesAreEscaped() throws Exception {
        Path p = file(header("{" + entry("evil\\nname\\u0000", "Q9", "[1]", "[0,1]") + "}", new byte[1]));
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p));
        TestSupport.assertOneLine(e, p, null);
        assertTrue(e.getMessage().contains("'evil\\nname\\u0000'"), e.getMessage());
        String longName = "x".repeat(5000);
        Path q = file(header("{" + entry(longName, "Q9", "[1]", "[0,1]") + "}", new byte[1]));
        SafetensorsException e2 = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(q));
        assertTrue(e2.getMessage().length() < 1000 + q.toString().length(), "long names are cut: " + e2.getMessage().length());
    }

    @Test
    void truncatedShard() throws Exception {
        byte[] good = new Raw().add("a", "F32", shape(4), Raw.f32(1, 2, 3, 4)).add("b", "F32", shape(4), Raw.f32(5, 6, 7, 8)).bytes();
        SafetensorsException e = rejects(Arrays.copyOf(good, good.length - 3), "b", "outside the data buffer", "truncated");
        assertTrue(e.getMessage().contains("[16, 32]"), e.getMessage());
        // cut inside the header
        rejects(Arrays.copyOf(good, 20), null, "past the end");
    }

    // ---- checkpoint-level (index.json) ----

    private void twoShards() throws Exception {
        new Raw().add("a", "F32", shape(1), Raw.f32(1)).write(dir.resolve("s1.safetensors"));
        new Raw().add("b", "F32", shape(1), Raw.f32(2)).write(dir.resolve("s2.safetensors"));
    }

    private SafetensorsException ckRejects(String tensor, String... fragments) {
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Checkpoint.open(dir).close());
        String m = e.getMessage();
        assertTrue(!m.contains("\n") && !m.contains("\r"), m);
        if (tensor != null) assertTrue(m.contains("'" + tensor + "'"), m);
        for (String f : fragments) assertTrue(m.contains(f), "expected '" + f + "' in: " + m);
        return e;
    }

    @Test
    void duplicateTensorAcrossShards() throws Exception {
        twoShards();
        new Raw().add("a", "F32", shape(1), Raw.f32(3)).write(dir.resolve("s3.safetensors"));
        ckRejects("a", "s1.safetensors", "s3.safetensors", "both");
        Files.writeString(dir.resolve(Checkpoint.INDEX), "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\",\"c\":\"s3.safetensors\"}}");
        ckRejects("a", "both");
    }

    @Test
    void indexNamingAMissingShard() throws Exception {
        twoShards();
        Files.writeString(dir.resolve(Checkpoint.INDEX), "{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s9.safetensors\"}}");
        ckRejects("s9.safetensors", Checkpoint.INDEX, "missing");
    }

    @Test
    void indexShardNamesThatLeaveTheDirectoryAreRefused() throws Exception {
        Path model = Files.createDirectory(dir.resolve("model"));
        new Raw().add("a", "F32", shape(1), Raw.f32(1)).write(dir.resolve("outside.safetensors"));
        new Raw().add("a", "F32", shape(1), Raw.f32(1)).write(model.resolve("in.safetensors"));
        Files.createDirectory(model.resolve("sub"));
        new Raw().add("a", "F32", shape(1), Raw.f32(1)).write(model.resolve("sub/x.safetensors"));
        String abs = dir.resolve("outside.safetensors").toAbsolutePath().toString();
        for (String bad : new String[] {"../outside.safetensors", abs, "sub/x.safetensors", "sub/../in.safetensors", "..", ".",
                "", "x\\u0000.safetensors", "./in.safetensors"}) {
            Files.writeString(model.resolve(Checkpoint.INDEX), "{\"weight_map\":{\"a\":\"" + bad.replace("\\", "\\\\").replace("\\\\u", "\\u") + "\"}}");
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> Checkpoint.open(model).close(), bad);
            assertTrue(e.getMessage().contains("not a plain file name") || e.getMessage().contains("leaves"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
        Files.writeString(model.resolve(Checkpoint.INDEX), "{\"weight_map\":{\"a\":7}}");
        assertThrows(SafetensorsException.class, () -> Checkpoint.open(model).close());
    }

    @Test
    void indexNotJson() throws Exception {
        twoShards();
        Path index = dir.resolve(Checkpoint.INDEX);
        for (String bad : new String[] {"", "{", "{\"weight_map\": {\"a\": \"s1.safetensors\",}}", "[]", "{\"weight_map\": []}",
                "{\"metadata\": {}}", "{\"weight_map\": {}}", "{\"weight_map\":{\"a\":\"s1.safetensors\",\"a\":\"s2.safetensors\"}}",
                "{\"weight_map\":{\"a\":\"s1.safetensors\"}} trailing"}) {
            Files.writeString(index, bad);
            SafetensorsException e = ckRejects(null, Checkpoint.INDEX);
            assertTrue(e.getMessage().length() < 600, e.getMessage());
        }
    }

    @Test
    void missingDirectoryAndEmptyDirectory() throws Exception {
        assertThrows(SafetensorsException.class, () -> Checkpoint.open(dir.resolve("nope")));
        ckRejects(null, "no *.safetensors");
        Files.write(dir.resolve(".model.safetensors.123.partial"), new byte[] {1});
        Files.write(dir.resolve("consolidated.safetensors"), new byte[] {1});
        ckRejects(null, "no *.safetensors");
    }

    @Test
    void checkFiniteNamesTheTensor() throws Exception {
        new Raw().add("ok", "F32", shape(2), Raw.f32(1, 2)).add("w", "F32", shape(2, 3), Raw.f32(1, 2, 3, Float.NaN, 5, Float.NEGATIVE_INFINITY))
                .add("h", "BF16", shape(2), Raw.u16(0x7F80, 0x3F80)).add("ids", "I64", shape(1), Raw.i64(5))
                .write(dir.resolve("model.safetensors"));
        try (Checkpoint ck = Checkpoint.open(dir)) {
            ck.checkFinite("ok");
            ck.checkFinite("ids");
            assertEquals(2, ck.countNonFinite("w"));
            assertEquals(1, ck.countNonFinite("h"));
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> ck.checkFinite("w"));
            TestSupport.assertOneLine(e, dir.resolve("model.safetensors"), "w");
            assertTrue(e.getMessage().contains("2 non-finite values") && e.getMessage().contains("NaN at element 3 = index [1, 0]"),
                    e.getMessage());
            TestSupport.assertOneLine(assertThrows(SafetensorsException.class, () -> ck.checkFinite("h")), dir.resolve("model.safetensors"), "h");
            assertThrows(SafetensorsException.class, () -> ck.checkFinite("missing"));
        }
    }

    @Test
    void validFilesStillOpen() throws Exception {
        // unpadded header (MLX), unknown keys in an entry, empty header object, zero-size tensors at the end
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"extra\":{\"x\":[1,2]}},"
                + "\"z\":{\"dtype\":\"F16\",\"shape\":[0],\"data_offsets\":[4,4]}}";
        byte[] hb = h.getBytes(StandardCharsets.UTF_8);
        Path p = file(Raw.file(hb.length, hb, Raw.f32(7)));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(2, f.tensors().size());
        }
        Path q = file(Raw.file(2, "{}".getBytes(), new byte[0]));
        try (SafetensorsFile f = SafetensorsFile.open(q)) {
            assertEquals(0, f.tensors().size());
        }
        try (SafetensorsFile f = SafetensorsFile.open(file(header("{\"__metadata__\":{\"format\":\"pt\"}}", new byte[0])))) {
            assertEquals("pt", f.metadata().get("format"));
        }
    }
}
