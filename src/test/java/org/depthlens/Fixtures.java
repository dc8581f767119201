package org.depthlens;

import org.depthlens.weights.SafetensorsFile;
import org.depthlens.weights.TensorInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.stream.Stream;

/** Access to the read-only reference material in ../shared (HF's numbers, never ours). */
public final class Fixtures {
    private Fixtures() {}

    public static Path shared() {
        String p = System.getProperty("depthlens.shared");
        Path path = p != null ? Path.of(p) : Path.of("..", "shared");
        return path.toAbsolutePath().normalize();
    }

    public static Path hf(String name) {
        return shared().resolve("fixtures/hf").resolve(name);
    }

    /** A checkpoint as the Curse-of-Depth training code saves it (.bin, no record of its NORM_TYPE), with references. */
    public static Path lnsCode(String name) {
        return shared().resolve("fixtures/lns_code").resolve(name);
    }

    /** The trained tiny-curse-24 LNS model saved the way the Curse-of-Depth code saves it. */
    public static Path tinyCurseLnsCode() {
        return shared().resolve("checkpoints/tiny-curse-24-lns-code/lns");
    }

    public static Path tinyCurse() {
        return shared().resolve("checkpoints/tiny-curse-24");
    }

    /**
     * Copies a fixture's model dir into {@code tmp}, optionally putting {@code config.legacy.json}
     * in place of {@code config.json} (the fixture itself is never modified).
     */
    public static Path copyModel(String name, boolean legacyConfig, Path tmp) {
        Path src = FixtureSet.of(name).model();
        Path dst = tmp.resolve(name + (legacyConfig ? "-legacy" : ""));
        try {
            Files.createDirectories(dst);
            try (Stream<Path> s = Files.list(src)) {
                for (Path p : (Iterable<Path>) s::iterator) {
                    Files.copy(p, dst.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            if (legacyConfig) {
                Files.copy(src.resolve("config.legacy.json"), dst.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
            }
            return dst;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The folder of any fixture of {@link FixtureSet#ALL} (HF's or LitGPT's). */
    public static Path dir(String name) {
        return FixtureSet.of(name).dir();
    }

    /** The input_ids of a fixture's reference.safetensors, one window per row. */
    public static java.util.List<int[]> windows(String fixture) {
        try (SafetensorsFile f = SafetensorsFile.open(dir(fixture).resolve("reference.safetensors"))) {
            var t = f.tensors().get("input_ids");
            long[] ids = f.readLongs(t);
            int b = (int) t.shape()[0], n = (int) t.shape()[1];
            java.util.List<int[]> windows = new java.util.ArrayList<>();
            for (int i = 0; i < b; i++) {
                int[] w = new int[n];
                for (int k = 0; k < n; k++) w[k] = (int) ids[i * n + k];
                windows.add(w);
            }
            return windows;
        }
    }

    /** A float32 reference tensor, flattened. */
    public static float[] readFloats(SafetensorsFile f, String name) {
        TensorInfo t = f.tensors().get(name);
        if (t == null) throw new IllegalArgumentException("no tensor " + name + " in " + f.path());
        float[] out = new float[(int) t.numel()];
        f.readF32(t, 0, t.numel(), FloatBuffer.wrap(out));
        return out;
    }

    /** max|a-b| / max|ref|. */
    public static double relMaxError(float[] actual, float[] ref) {
        if (actual.length != ref.length) throw new AssertionError("length " + actual.length + " != " + ref.length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) actual[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            if (Float.isNaN(actual[i])) return Double.POSITIVE_INFINITY;
        }
        return maxDiff / maxRef;
    }
}
