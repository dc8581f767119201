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
