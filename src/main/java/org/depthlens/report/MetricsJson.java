package org.depthlens.report;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.BadInputException;
import org.depthlens.analysis.MetricRegistry;
import org.depthlens.analysis.ModelResult;
import org.depthlens.pass.Provenance;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;
import org.depthlens.stats.Band;
import org.depthlens.stats.GrowthFit;
import org.depthlens.stats.Uncertainty;

import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.json} for one {@link ModelResult}.
 *
 * <p>Format: a pretty-printed object (2-space indent, {@code "\n"} line ends, trailing newline)
 * with the top-level keys {@link #KEYS}, in this order: {@code label, family, lns, blocks}, every stored metric of
 * the registry in its order ({@code angular_all, angular_last, variance, token_variance, rms, block_influence,
 * update_ratio, loss, loss_without_layer, logit_lens, jacobian_deviation, loss_without_attention, loss_without_mlp,
 * token_similarity}), then {@code pruned_removal, expert_usage, uncertainty, score_vs_damage, variance_growth,
 * provenance}. {@code uncertainty} is
 * {@code {method, resamples, seed, windows, windows_sha256, ci95: {KEY: same shape as KEY with [lo, hi] at each position}}},
 * {@code score_vs_damage} {@code {SCORE: {spearman, ci95: [lo, hi]}}}, {@code variance_growth}
 * {@code {space, fits: {FORM: {a, b, rmse_log, r2}}, best}} (docs/metrics.md); the first two are null without
 * intervals, the last is derived from {@code variance} and not read back. {@code logit_lens} is an object
 * {@code {loss, kl, top1_agreement}} of lists over depth 0..L. Triangles are ragged lists
 * ({@code angular_all[l]} has {@code L-l} entries, entry {@code n-1} is the distance from x[l] to
 * x[l+n]). Doubles are written in the shortest decimal form that parses back to the same double,
 * so {@code read(write(r))} reproduces every finite value bit for bit.
 *
 * <p>JSON has no NaN or infinity: a non-finite double is written as {@code null} and read back as
 * NaN (so +-Infinity does not survive; the value was not a usable number anyway). Fields that are
 * absent in the record ({@code loss_without_layer}, a probe family switched off, {@code pruned_removal}, {@code provenance},
 * {@code expert_usage} of a dense model, the usage of a dense block) are written as {@code null}.
 */
public final class MetricsJson {
    /** Top-level keys in file order: the run's, each registered stored metric's ({@link MetricRegistry}), then the rest. */
    public static final List<String> KEYS = keys();

    private static List<String> keys() {
        List<String> k = new ArrayList<>(List.of("label", "family", "lns", "blocks"));
        for (MetricSpec s : MetricRegistry.METRICS) if (!s.isDerived() && !k.contains(top(s.key()))) k.add(top(s.key()));
        k.addAll(List.of("pruned_removal", "expert_usage", "uncertainty", "score_vs_damage", "variance_growth", "provenance"));
        return List.copyOf(k);
    }

    /** The top-level key of a metric: "logit_lens" for "logit_lens.kl". */
    private static String top(String key) {
        int dot = key.indexOf('.');
        return dot < 0 ? key : key.substring(0, dot);
    }

    /**
     * Every registered stored metric in registry order; the metrics of one dotted group ("logit_lens.loss", ...)
     * as one object of their short names, null when none of them was measured.
     */
    private static void writeMetrics(JsonGenerator g, Metrics m) throws IOException {
        List<MetricSpec> stored = MetricRegistry.METRICS.stream().filter(s -> !s.isDerived()).toList();
        for (int i = 0; i < stored.size(); ) {
            String top = top(stored.get(i).key());
            int j = i;
            while (j < stored.size() && top(stored.get(j).key()).equals(top)) j++;
            g.writeFieldName(top);
            if (j == i + 1 && stored.get(i).key().equals(top)) {
                writeValue(g, stored.get(i), m);
            } else if (stored.subList(i, j).stream().allMatch(s -> s.rows(m) == null)) {
                g.writeNull();
            } else {
                g.writeStartObject();
                for (MetricSpec s : stored.subList(i, j)) {
                    g.writeFieldName(s.key().substring(top.length() + 1));
                    writeValue(g, s, m);
                }
                g.writeEndObject();
            }
            i = j;
        }
    }

    private static void writeValue(JsonGenerator g, MetricSpec s, Metrics m) throws IOException {
        double[][] rows = s.rows(m);
        if (rows == null) {
            g.writeNull();
        } else if (s.shape() == MetricSpec.Shape.TRIANGLE) {
            writeTriangle(g, rows);
        } else if (s.shape() == MetricSpec.Shape.SCALAR) {
            writeDouble(g, rows[0][0]);
        } else {
            writeArray(g, rows[0]);
        }
    }

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER) // Schubfach: shortest round-trip repr
            .build();
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final ObjectMapper READER = org.depthlens.JsonErrors.oneValueMapper();

    private MetricsJson() {}

    /** Writes {@code metrics.json} (UTF-8). */
    public static void write(ModelResult r, Path file) throws IOException {
        Files.writeString(file, toJson(r), StandardCharsets.UTF_8);
    }

    /** The exact text {@link #write} puts in the file. */
    public static String toJson(ModelResult r) {
        MetricsShape.check(r);
        StringWriter sw = new StringWriter();
        try (JsonGenerator g = generator(sw)) {
            Metrics m = r.metrics();
            g.writeStartObject();
            g.writeStringField("label", r.label());
            g.writeStringField("family", r.family());
            g.writeBooleanField("lns", r.lns());
            g.writeNumberField("blocks", m.blocks());
            writeMetrics(g, m);
            g.writeFieldName("pruned_removal");
            if (r.prunedRemoval() == null) {
                g.writeNull();
            } else {
                g.writeStartArray();
                for (PrunedRemoval p : r.prunedRemoval()) {
                    g.writeStartObject();
                    g.writeNumberField("n", p.n());
                    g.writeNumberField("start", p.start());
                    g.writeFieldName("loss");
                    writeDouble(g, p.loss());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeFieldName("expert_usage");
            if (r.expertUsage() == null) {
                g.writeNull();
            } else {
                g.writeStartArray();
                for (long[] counts : r.expertUsage()) {
                    if (counts == null) {
                        g.writeNull();
                    } else {
                        g.writeStartArray();
                        for (long c : counts) {
                            g.writeNumber(c);
                        }
                        g.writeEndArray();
                    }
                }
                g.writeEndArray();
            }
            writeUncertainty(g, m.uncertainty());
            writeGrowth(g, m.variance());
            g.writeFieldName("provenance");
            writeProvenance(g, r.provenance());
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to a string failed", e);
        }
        return sw.toString() + "\n";
    }

    private static void writeUncertainty(JsonGenerator g, Uncertainty u) throws IOException {
        g.writeFieldName("uncertainty");
        if (u == null) {
            g.writeNull();
        } else {
            g.writeStartObject();
            g.writeStringField("method", u.method());
            g.writeNumberField("resamples", u.resamples());
            g.writeNumberField("seed", u.seed());
            g.writeNumberField("windows", u.windows());
            if (u.windowsSha256() != null) g.writeStringField("windows_sha256", u.windowsSha256());
            g.writeFieldName("ci95");
            g.writeStartObject();
            for (Map.Entry<String, Band> e : u.ci95().entrySet()) {
                g.writeFieldName(e.getKey());
                writeBand(g, e.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeFieldName("score_vs_damage");
        if (u == null || u.scoreVsDamage() == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        for (Map.Entry<String, Uncertainty.Correlation> e : u.scoreVsDamage().entrySet()) {
            g.writeFieldName(e.getKey());
            g.writeStartObject();
            g.writeFieldName("spearman");
            writeDouble(g, e.getValue().spearman());
            g.writeFieldName("ci95");
            writeArray(g, new double[] {e.getValue().lo(), e.getValue().hi()});
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    /** A band as {@code ci95} holds it in metrics.json and eval.json: [lo, hi], a list of them, or a list of lists. */
    static void writeBand(JsonGenerator g, Band b) throws IOException {
        if (b.rank() == 0) {
            writeArray(g, new double[] {b.lo()[0][0], b.hi()[0][0]});
            return;
        }
        if (b.rank() == 2) g.writeStartArray();
        for (int r = 0; r < b.lo().length; r++) {
            g.writeStartArray();
            for (int i = 0; i < b.lo()[r].length; i++) writeArray(g, new double[] {b.lo()[r][i], b.hi()[r][i]});
            g.writeEndArray();
        }
        if (b.rank() == 2) g.writeEndArray();
    }

    private static void writeGrowth(JsonGenerator g, double[] variance) throws IOException {
        g.writeFieldName("variance_growth");
        List<GrowthFit> fits = GrowthFit.fit(variance);
        if (fits.isEmpty()) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        g.writeStringField("space", GrowthFit.SPACE);
        g.writeFieldName("fits");
        g.writeStartObject();
        for (GrowthFit f : fits) {
            g.writeFieldName(f.form());
            g.writeStartObject();
            for (String k : new String[] {"a", "b", "rmse_log", "r2"}) {
                g.writeFieldName(k);
                writeDouble(g, switch (k) {
                    case "a" -> f.a();
                    case "b" -> f.b();
                    case "rmse_log" -> f.rmseLog();
                    default -> f.r2();
                });
            }
            g.writeEndObject();
        }
        g.writeEndObject();
        g.writeStringField("best", GrowthFit.best(fits));
        g.writeEndObject();
    }

    private static JsonGenerator generator(Writer w) throws IOException {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance()
                        .withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        pp.indentObjectsWith(indenter);
        pp.indentArraysWith(indenter);
        JsonGenerator g = FACTORY.createGenerator(w);
        g.setPrettyPrinter(pp);
        return g;
    }

    private static void writeTriangle(JsonGenerator g, double[][] t) throws IOException {
        g.writeStartArray();
        for (double[] row : t) {
            writeArray(g, row);
        }
        g.writeEndArray();
    }

    private static void writeArray(JsonGenerator g, double[] a) throws IOException {
        if (a == null) {
            g.writeNull();
            return;
        }
        g.writeStartArray();
        for (double v : a) {
            writeDouble(g, v);
        }
        g.writeEndArray();
    }

    private static void writeDouble(JsonGenerator g, double v) throws IOException {
        if (Double.isFinite(v)) {
            g.writeNumber(v);
        } else {
            g.writeNull();
        }
    }

    // ---------------------------------------------------------------- reading

    /** Reads a file written by {@link #write}; throws {@link BadInputException} naming the file and key. */
    public static ModelResult read(Path file) throws IOException {
        JsonNode root;
        try {
            // a regular file of bounded size (prune --from-analysis reads it: a FIFO there would hang), one JSON value
            root = READER.readTree(org.depthlens.util.InputFiles.read(file, "metrics.json", org.depthlens.util.InputFiles.MAX_JSON_BYTES));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(file + ": not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")", e);
        }
        return fromTree(root, file.toString());
    }

    /** Parses the text of a metrics.json; {@code source} names it in error messages. */
    public static ModelResult parse(String json, String source) {
        JsonNode root;
        try {
            root = READER.readTree(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(source + ": not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")", e);
        }
        return fromTree(root, source);
    }

    private static ModelResult fromTree(JsonNode root, String src) {
        if (root == null || !root.isObject()) {
            throw new BadInputException(src + ": expected a JSON object");
        }
        Reader rd = new Reader(src);
        int blocks = rd.integer(root, "blocks");
        Metrics m = new Metrics(blocks, readMetrics(rd, root), readUncertainty(rd, root));
        List<PrunedRemoval> pruned = null;
        JsonNode pr = rd.present(root, "pruned_removal");
        if (!pr.isNull()) {
            rd.require(pr.isArray(), "pruned_removal", "a list");
            pruned = new ArrayList<>();
            for (int i = 0; i < pr.size(); i++) {
                JsonNode e = pr.get(i);
                String key = "pruned_removal[" + i + "]";
                rd.require(e.isObject(), key, "an object");
                pruned.add(new PrunedRemoval(rd.integer(e, "n", key), rd.integer(e, "start", key),
                        rd.number(e.get("loss"), key + ".loss")));
            }
        }
        List<long[]> usage = null;
        JsonNode eu = root.get("expert_usage");
        if (eu != null && !eu.isNull()) {
            rd.require(eu.isArray(), "expert_usage", "a list");
            usage = new ArrayList<>();
            for (int i = 0; i < eu.size(); i++) {
                JsonNode row = eu.get(i);
                if (row.isNull()) {
                    usage.add(null);
                    continue;
                }
                rd.require(row.isArray(), "expert_usage[" + i + "]", "a list or null");
                long[] counts = new long[row.size()];
                for (int j = 0; j < counts.length; j++) {
                    JsonNode c = row.get(j);
                    rd.require(c.isIntegralNumber() && c.canConvertToLong(), "expert_usage[" + i + "][" + j + "]",
                            "an integer");
                    counts[j] = c.longValue();
                }
                usage.add(counts);
            }
        }
        Provenance prov = null;
        JsonNode pv = rd.present(root, "provenance");
        if (!pv.isNull()) {
            rd.require(pv.isObject(), "provenance", "an object");
            prov = new Provenance(rd.string(pv, "model_path", "provenance"),
                    rd.string(pv, "config_sha256", "provenance"),
                    rd.string(pv, "weights_sha256", "provenance"),
                    rd.string(pv, "data_path", "provenance"),
                    rd.string(pv, "data_sha256", "provenance"),
                    rd.integer(pv, "windows", "provenance"),
                    rd.longInt(pv, "tokens", "provenance"),
                    rd.string(pv, "tool_version", "provenance"),
                    rd.string(pv, "date", "provenance"),
                    pv.path("norm_type").isTextual() ? pv.get("norm_type").asText() : null,
                    pv.path("post_num").canConvertToInt() && pv.path("post_num").isIntegralNumber() ? pv.get("post_num").asInt() : null,
                    pv.path("norm_source").isTextual() ? pv.get("norm_source").asText() : null,
                    pv.hasNonNull("execution") ? pv.get("execution").asText() : null);
        }
        JsonNode lns = rd.present(root, "lns");
        rd.require(lns.isBoolean(), "lns", "true or false");
        ModelResult r = new ModelResult(rd.string(root, "label", null), rd.string(root, "family", null),
                lns.booleanValue(), m, pruned, usage, prov);
        try {
            MetricsShape.check(r);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(src + ": " + e.getMessage(), e);
        }
        return r;
    }

    /**
     * Every registered stored metric: a required one must be there; an optional one may be null or absent (files
     * written before its probe existed); a dotted group is an object holding each of its metrics.
     */
    private static Map<String, double[][]> readMetrics(Reader rd, JsonNode root) {
        Map<String, double[][]> values = new LinkedHashMap<>();
        for (MetricSpec s : MetricRegistry.METRICS) {
            if (s.isDerived()) continue;
            String key = s.key(), top = top(key);
            JsonNode holder = root;
            String name = key;
            if (!top.equals(key)) {
                JsonNode group = root.get(top);
                if (group == null || group.isNull()) continue;
                rd.require(group.isObject(), top, "an object");
                holder = group;
                name = key.substring(top.length() + 1);
                rd.present(group, name);
            }
            JsonNode n = holder.get(name);
            if (n == null && !s.optional()) throw new BadInputException(rd.src() + ": missing key '" + key + "'");
            if (n == null || (n.isNull() && s.optional())) continue;
            values.put(key, switch (s.shape()) {
                case SCALAR -> new double[][] {{rd.number(n, key)}};
                case TRIANGLE -> rd.triangle(n, key);
                default -> new double[][] {rd.doubles(n, key)};
            });
        }
        return values;
    }

    /** The intervals (absent in files written before them); their per-window sums are not in the file. */
    private static Uncertainty readUncertainty(Reader rd, JsonNode root) {
        JsonNode u = root.get("uncertainty");
        if (u == null || u.isNull()) return null;
        rd.require(u.isObject(), "uncertainty", "an object");
        JsonNode ci = rd.present(u, "ci95");
        rd.require(ci.isObject(), "uncertainty.ci95", "an object");
        Map<String, Band> bands = new LinkedHashMap<>();
        for (var it = ci.fields(); it.hasNext(); ) {
            var e = it.next();
            bands.put(e.getKey(), rd.band(e.getValue(), "uncertainty.ci95." + e.getKey()));
        }
        Map<String, Uncertainty.Correlation> svd = new LinkedHashMap<>();
        JsonNode sv = root.get("score_vs_damage");
        if (sv != null && !sv.isNull()) {
            rd.require(sv.isObject(), "score_vs_damage", "an object");
            for (var it = sv.fields(); it.hasNext(); ) {
                var e = it.next();
                String key = "score_vs_damage." + e.getKey();
                double[] b = rd.doubles(rd.present(e.getValue(), "ci95"), key + ".ci95");
                rd.require(b.length == 2, key + ".ci95", "[lo, hi]");
                svd.put(e.getKey(), new Uncertainty.Correlation(rd.number(e.getValue().get("spearman"), key + ".spearman"), b[0], b[1]));
            }
        }
        return new Uncertainty(rd.string(u, "method", "uncertainty"), rd.integer(u, "resamples", "uncertainty"),
                rd.longInt(u, "seed", "uncertainty"), rd.integer(u, "windows", "uncertainty"),
                u.hasNonNull("windows_sha256") ? rd.string(u, "windows_sha256", "uncertainty") : null, bands, svd, null);
    }

    /** Small typed accessors that name the file and key in every error. */
    private record Reader(String src) {
        JsonNode present(JsonNode obj, String key) {
            JsonNode n = obj.get(key);
            if (n == null) {
                throw new BadInputException(src + ": missing key '" + key + "'");
            }
            return n;
        }

        void require(boolean ok, String key, String what) {
            if (!ok) {
                throw new BadInputException(src + ": '" + key + "' must be " + what);
            }
        }

        String string(JsonNode obj, String key, String parent) {
            String full = parent == null ? key : parent + "." + key;
            JsonNode n = obj.get(key);
            if (n == null) {
                throw new BadInputException(src + ": missing key '" + full + "'");
            }
            if (n.isNull()) {
                return null;
            }
            require(n.isTextual(), full, "a string");
            return n.textValue();
        }

        int integer(JsonNode obj, String key) {
            return integer(obj, key, null);
        }

        int integer(JsonNode obj, String key, String parent) {
            String full = parent == null ? key : parent + "." + key;
            JsonNode n = obj.get(key);
            require(n != null && n.isIntegralNumber() && n.canConvertToInt(), full, "an integer");
            return n.intValue();
        }

        long longInt(JsonNode obj, String key, String parent) {
            String full = parent + "." + key;
            JsonNode n = obj.get(key);
            require(n != null && n.isIntegralNumber() && n.canConvertToLong(), full, "an integer");
            return n.longValue();
        }

        double number(JsonNode n, String key) {
            if (n == null) {
                throw new BadInputException(src + ": missing key '" + key + "'");
            }
            if (n.isNull()) {
                return Double.NaN;
            }
            require(n.isNumber(), key, "a number or null");
            return n.doubleValue();
        }

        double[] doubles(JsonNode n, String key) {
            require(n.isArray(), key, "a list of numbers");
            double[] a = new double[n.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = number(n.get(i), key + "[" + i + "]");
            }
            return a;
        }

        /** [lo, hi], a list of them, or a list of lists of them. */
        Band band(JsonNode n, String key) {
            require(n.isArray(), key, "a list");
            if (n.size() == 0 || n.get(0).isNumber() || n.get(0).isNull()) {
                double[] b = doubles(n, key);
                require(b.length == 2, key, "[lo, hi]");
                return new Band(0, new double[][] {{b[0]}}, new double[][] {{b[1]}});
            }
            boolean tri = n.get(0).size() > 0 && n.get(0).get(0).isArray();
            if (!tri) {
                double[][] row = pairs(n, key);
                return new Band(1, new double[][] {row[0]}, new double[][] {row[1]});
            }
            double[][] lo = new double[n.size()][], hi = new double[n.size()][];
            for (int r = 0; r < n.size(); r++) {
                double[][] row = pairs(n.get(r), key + "[" + r + "]");
                lo[r] = row[0];
                hi[r] = row[1];
            }
            return new Band(2, lo, hi);
        }

        private double[][] pairs(JsonNode n, String key) {
            require(n.isArray(), key, "a list of [lo, hi]");
            double[][] out = new double[2][n.size()];
            for (int i = 0; i < n.size(); i++) {
                double[] b = doubles(n.get(i), key + "[" + i + "]");
                require(b.length == 2, key + "[" + i + "]", "[lo, hi]");
                out[0][i] = b[0];
                out[1][i] = b[1];
            }
            return out;
        }

        double[][] triangle(JsonNode n, String key) {
            require(n.isArray(), key, "a list of lists");
            double[][] t = new double[n.size()][];
            for (int l = 0; l < t.length; l++) {
                t[l] = doubles(n.get(l), key + "[" + l + "]");
            }
            return t;
        }
    }

    /** The provenance object shared by metrics.json and eval.json (null when absent). */
    public static void writeProvenance(com.fasterxml.jackson.core.JsonGenerator g, Provenance p) throws IOException {
        if (p == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        g.writeStringField("model_path", p.modelPath());
        g.writeStringField("config_sha256", p.configSha256());
        g.writeStringField("weights_sha256", p.weightsSha256());
        g.writeStringField("data_path", p.dataPath());
        g.writeStringField("data_sha256", p.dataSha256());
        g.writeNumberField("windows", p.windows());
        g.writeNumberField("tokens", p.tokens());
        g.writeStringField("tool_version", p.toolVersion());
        g.writeStringField("date", p.date());
        if (p.normType() != null) g.writeStringField("norm_type", p.normType());
        if (p.postNum() != null) g.writeNumberField("post_num", p.postNum());
        if (p.normSource() != null) g.writeStringField("norm_source", p.normSource());
        if (p.execution() != null) g.writeStringField("execution", p.execution());
        g.writeEndObject();
    }
}
