package org.depthlens.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.analysis.ModelResult;
import org.depthlens.pass.Provenance;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.probe.Metrics;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Test data: the real metrics of the trained Pre-LN / LNS pair in
 * shared/checkpoints/tiny-curse-24/reference_metrics.json, at the final step and at step 141.
 * Provenance hashes are real SHA-256 of the files named; the contiguous-pruning entry is the one
 * the reference fixes exactly (n = 1: the argmin of angular_last[l][0], whose loss is
 * loss_without_layer[start]). The final pair also carries the probes beyond the paper ({@link #withProbes}).
 */
final class ReferenceData {
    static final String DIR = "checkpoints/tiny-curse-24";

    private ReferenceData() {}

    static Path shared() {
        String p = System.getProperty("depthlens.shared");
        if (p == null) {
            p = "../shared";
        }
        return Paths.get(p).toAbsolutePath().normalize();
    }

    static Path referenceFile() {
        return shared().resolve(DIR).resolve("reference_metrics.json");
    }

    static JsonNode root() {
        try {
            return new ObjectMapper().readTree(referenceFile().toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The reference node of a model: "pre_ln", "lns", "early/pre_ln", "early/lns". */
    static JsonNode node(String key) {
        JsonNode r = root();
        for (String part : key.split("/")) {
            r = r.get(part);
        }
        return r;
    }

    /** pre_ln@141, pre_ln, lns@141, lns: two trajectories, and a Pre-LN vs LNS comparison. */
    static List<ModelResult> all() {
        return List.of(model("early/pre_ln"), model("pre_ln"), model("early/lns"), model("lns"));
    }

    static ModelResult model(String key) {
        JsonNode n = node(key);
        boolean early = key.startsWith("early/");
        String name = key.substring(key.indexOf('/') + 1);
        String dir = name + (early ? "-step141" : "");
        Metrics m = metrics(n);
        int start = 0;
        for (int l = 1; l < m.blocks(); l++) {
            if (m.angularLast()[l][0] < m.angularLast()[start][0]) {
                start = l;
            }
        }
        List<PrunedRemoval> pruned = List.of(new PrunedRemoval(1, start, m.lossWithoutLayer()[start]));
        Path ckpt = shared().resolve(DIR).resolve(dir);
        int windows = n.get("windows").intValue();
        Provenance p = new Provenance(ckpt.toString(), sha256(ckpt.resolve("config.json")),
                sha256(ckpt.resolve("model.safetensors")), shared().resolve(DIR).resolve("validation.txt").toString(),
                sha256(shared().resolve(DIR).resolve("validation.txt")), windows,
                (long) windows * n.get("window_tokens").longValue(), "0.1.0", "2025-06-01T12:00:00Z");
        if (!early) m = withProbes(m, name);
        return new ModelResult(dir, "llama", name.equals("lns"), m, pruned, null, p);
    }

    /**
     * The probes beyond the paper for the final pair, from tools/probe_reference.py's committed output (its
     * own 4 windows of 128 tokens: report test data, not a consistency claim with the other metrics).
     */
    static Metrics withProbes(Metrics m, String name) {
        try (var in = ReferenceData.class.getResourceAsStream("/probe_reference.json")) {
            JsonNode r = new ObjectMapper().readTree(in).get(name);
            JsonNode lens = r.get("logit_lens");
            return m.withProbes(new Metrics.LogitLens(doubles(lens.get("loss")), doubles(lens.get("kl")),
                    doubles(lens.get("top1_agreement"))), doubles(r.get("jacobian_deviation")),
                    doubles(r.get("loss_without_attention")), doubles(r.get("loss_without_mlp")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Metrics metrics(JsonNode n) {
        return new Metrics(n.get("variance").size() - 1, triangle(n.get("angular_all")),
                triangle(n.get("angular_last")), doubles(n.get("block_influence")), doubles(n.get("variance")),
                doubles(n.get("token_variance")), doubles(n.get("rms")), doubles(n.get("update_ratio")),
                n.get("loss").doubleValue(), doubles(n.get("loss_without_layer")));
    }

    static double[] doubles(JsonNode a) {
        double[] d = new double[a.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = a.get(i).doubleValue();
        }
        return d;
    }

    static double[][] triangle(JsonNode a) {
        double[][] t = new double[a.size()][];
        for (int i = 0; i < t.length; i++) {
            t[i] = doubles(a.get(i));
        }
        return t;
    }

    static String sha256(Path f) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(Files.readAllBytes(f)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
