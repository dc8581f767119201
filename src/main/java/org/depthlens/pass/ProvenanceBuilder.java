package org.depthlens.pass;

import org.depthlens.model.Model;
import org.depthlens.weights.WeightsFile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/** Hashes and versions that say exactly what a result was computed from. */
public final class ProvenanceBuilder {
    private ProvenanceBuilder() {}

    /**
     * "depthlens VERSION (ND4J ..., OpenBLAS ..., core ...)": the numeric backend is part of the version
     * because float32 sums (and so the last digits of every metric) depend on the BLAS kernel.
     */
    public static String toolVersion() {
        String v = ProvenanceBuilder.class.getPackage().getImplementationVersion();
        java.util.Properties libs = new java.util.Properties();
        try (var in = ProvenanceBuilder.class.getResourceAsStream("/org/depthlens/versions.properties")) {
            if (in != null) libs.load(in);
        } catch (IOException e) {
            // versions unknown: leave them out
        }
        return "depthlens " + (v != null ? v : "dev") + " (ND4J " + libs.getProperty("nd4j", "?") + ", OpenBLAS "
                + libs.getProperty("openblas", "?") + ", " + org.depthlens.model.Blas.configure().describe() + ")";
    }

    public static Provenance of(Model model, String dataPath, byte[] data, int windows, long tokens) {
        var norm = model.arch().norm();
        return new Provenance(model.dir().toString(), sha256(model.dir().resolve("config.json")), weightsSha256(model),
                dataPath, sha256(data), windows, tokens, toolVersion(), Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(),
                norm.type().code(), norm.type().usesPostNum() ? norm.postNum() : null, norm.source());
    }

    /**
     * SHA-256 over each weight file's name, fingerprint and size, in file-name order: cheap even for
     * hundreds of GB, and any re-save (new tensors, dtypes, offsets or sizes) changes it. The fingerprint
     * of a safetensors file is its header (length + JSON); of a PyTorch .bin its data.pkl (names, dtypes,
     * shapes, strides, storage keys) followed by its zip central directory, which holds the CRC-32 torch
     * computed over every storage's bytes. Metadata only: a safetensors file edited in place keeps its hash;
     * a .bin's storages are checked against their CRCs as they are read (TorchFile), so there changed values
     * either change the hash or stop the run.
     */
    public static String weightsSha256(Model model) {
        MessageDigest md = digest();
        List<WeightsFile> files = model.checkpoint().files().stream()
                .sorted(Comparator.comparing(f -> f.path().getFileName().toString())).toList();
        for (WeightsFile f : files) {
            md.update(f.path().getFileName().toString().getBytes(StandardCharsets.UTF_8));
            md.update(f.fingerprint());
            md.update(ByteBuffer.allocate(8).putLong(f.fileSize()).array());
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static String sha256(Path file) {
        try {
            return sha256(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String sha256(byte[] data) {
        return HexFormat.of().formatHex(digest().digest(data));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
