package org.depthlens.cli;

import org.depthlens.Fixtures;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.pass.ProvenanceBuilder;
import org.depthlens.weights.TorchZip;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the commands show for PyTorch .bin folders: which files were read, and what the provenance hash covers. */
class TorchBinCommandsTest {
    @TempDir
    Path tmp;

    static Path lnsCode(String name) {
        return Fixtures.shared().resolve("fixtures/lns_code").resolve(name).resolve("model");
    }

    static Path copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) Files.copy(p, to.resolve(p.getFileName()));
        }
        return to;
    }

    @Test
    void inspectSaysWhichFormatWasRead() throws Exception {
        Cli.Result r = Cli.run("inspect", "-m", lnsCode("pre_bf16_sharded_tied").toString());
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("pytorch (torch.save zip, read without running its pickle)"), r.out());
        assertTrue(r.out().matches("(?s).*shards\\s+9\\n.*"), r.out());

        Path both = copy(Fixtures.hf("llama").resolve("model"), tmp.resolve("both"));
        Files.copy(lnsCode("pre").resolve("pytorch_model.bin"), both.resolve("pytorch_model.bin"));
        r = Cli.run("inspect", "-m", both.toString());
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("safetensors; also present but not read (safetensors win): pytorch_model.bin"), r.out());
    }

    /**
     * inspect reads every storage of a .bin and checks its CRC-32: one flipped weight bit with the zip's CRC left stale
     * is exit 3 naming file, entry and tensor, with nothing on stdout (it was exit 0: inspect read no storage);
     * --headers-only skips the check and says so; an intact .bin and a safetensors folder say what was checked.
     */
    @Test
    void inspectChecksEveryStorageCrc() throws Exception {
        Path good = lnsCode("pre");
        Cli.Result r = Cli.run("inspect", "-m", good.toString());
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().matches("(?s).*checksums\\s+CRC-32 of all 63 storages match their bytes \\([0-9,]+ bytes read\\)\\n.*"), r.out());
        r = Cli.run("inspect", "-m", Fixtures.hf("llama").resolve("model").toString(), "--json");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().contains("\"checksums\" : \"none stored (safetensors has no checksum"), r.out());

        Path m = copy(good, tmp.resolve("stale"));
        Path bin = m.resolve("pytorch_model.bin");
        byte[] file = Files.readAllBytes(bin);
        LinkedHashMap<String, byte[]> entries = TorchZip.read(bin);
        String storage = entries.keySet().stream().filter(n -> n.contains("/data/") && entries.get(n).length >= 1024).reduce((a, b) -> b).orElseThrow();
        int at = SafetyBadInputTest.indexOf(file, entries.get(storage));
        assertTrue(at > 0, "storage bytes found in the file");
        file[at + 100] ^= 0x10; // one bit of one weight; the zip's CRC-32 stays the old one
        Files.write(bin, file);
        r = Cli.run("inspect", "-m", m.toString());
        Cli.assertError(r, 3, bin.toString(), "zip entry '" + storage + "'", "(storage of tensor '", "does not match its CRC-32");
        r = Cli.run("inspect", "-m", m.toString(), "--headers-only");
        assertEquals(0, r.code(), r.describe());
        assertTrue(r.out().matches("(?s).*checksums\\s+not checked \\(--headers-only\\): the CRC-32s of 63 storages were not compared.*"), r.out());
    }

    /**
     * A state dict (data.pkl) edited after torch.save with its CRC-32 left stale, here one letter of a tensor name, is
     * refused when the file is opened, by every command (it was read as it stood).
     */
    @Test
    void stateDictWithStaleCrcIsRefused() throws Exception {
        Path m = copy(lnsCode("pre"), tmp.resolve("pkl"));
        Path bin = m.resolve("pytorch_model.bin");
        String pkl = TorchZip.read(bin).keySet().stream().filter(n -> n.endsWith("/data.pkl")).findFirst().orElseThrow();
        byte[] file = Files.readAllBytes(bin);
        byte[] name = "model.norm.weight".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int at = SafetyBadInputTest.indexOf(file, name);
        assertTrue(at > 0, "tensor name found in data.pkl");
        file[at + name.length - 1] = 'T';
        Files.write(bin, file);
        for (String cmd : new String[] {"inspect", "trace"}) {
            Path out = tmp.resolve(cmd + ".safetensors");
            Cli.Result r = cmd.equals("inspect") ? Cli.run("inspect", "-m", m.toString(), "--headers-only")
                    : Cli.run("trace", "-m", m.toString(), "--ids", lnsCode("pre").getParent().resolve("ids.json").toString(), "-o", out.toString());
            Cli.assertError(r, 3, bin.toString(), "zip entry '" + pkl + "' does not match its CRC-32", "changed after torch.save wrote it");
            Cli.assertNothingLeft(out);
        }
    }

    /** The hash covers data.pkl and the zip directory, whose CRC-32s change with the values; the same bytes hash the same. */
    @Test
    void weightsHashFollowsTheValues() throws Exception {
        Path a = copy(lnsCode("pre"), tmp.resolve("a"));
        Path b = copy(lnsCode("pre"), tmp.resolve("b"));
        assertEquals(hash(a), hash(b));
        assertEquals(64, hash(a).length());
        // both archives written again by the same writer (same layout); in b one storage byte differs, with its new
        // CRC-32, as a re-save with other values would have it
        LinkedHashMap<String, byte[]> entries = TorchZip.read(a.resolve("pytorch_model.bin"));
        TorchZip.write(a.resolve("pytorch_model.bin"), TorchZip.entries(entries), false);
        byte[] s = entries.get("pytorch_model/data/1").clone();
        s[5] ^= 1;
        entries.put("pytorch_model/data/1", s);
        TorchZip.write(b.resolve("pytorch_model.bin"), TorchZip.entries(entries), false);
        assertEquals(Files.size(a.resolve("pytorch_model.bin")), Files.size(b.resolve("pytorch_model.bin")));
        assertNotEquals(hash(a), hash(b));
    }

    static String hash(Path dir) {
        try (Model m = Model.open(dir, Architecture.LnsMode.AUTO)) {
            return ProvenanceBuilder.weightsSha256(m);
        }
    }
}
