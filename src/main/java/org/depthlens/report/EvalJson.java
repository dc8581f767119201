package org.depthlens.report;

import org.depthlens.eval.DocsResult;
import org.depthlens.eval.EvalResult;
import org.depthlens.eval.FileIntervals;
import org.depthlens.eval.FileScores;
import org.depthlens.eval.TaskResult;
import org.depthlens.report.MetricsJson;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.pass.Provenance;
import org.depthlens.stats.Band;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code eval.json}: {@code {"label", "family", "lns", "blocks", "settings", "tasks": {<file>: {"n", "acc",
 * "acc_norm", "loglik", "removal", "pruned", "uncertainty"}}, "perplexity": {<file>: {"documents", "tokens", "words",
 * "bytes", "loglik", "token_ppl", "word_ppl", "byte_ppl", "bits_per_byte", "removal", "pruned", "uncertainty"}},
 * "inputs", "provenance"}}.
 *
 * <p>Every {@code removal} entry ({@code {"block", <metric>...}}) and {@code pruned} entry ({@code {"n",
 * "start", <metric>...}}) holds the <b>change</b> of each metric, {@code value_without - value_full} (a
 * positive perplexity change and a negative accuracy change are losses), and the model's own values
 * under {@code "without"}. {@code uncertainty} holds the 95 % interval of each of these numbers
 * ({@link FileIntervals}). Doubles are written in their shortest round-trip form; non-finite ones as null.
 */
public final class EvalJson {
    public static final String FILE = "eval.json";

    private static final JsonFactory FACTORY = JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

    private EvalJson() {}

    public static void write(EvalResult r, Path file) throws IOException {
        Files.writeString(file, toJson(r), StandardCharsets.UTF_8);
    }

    public static String toJson(EvalResult r) {
        StringWriter sw = new StringWriter();
        try (JsonGenerator g = generator(sw)) {
            g.writeStartObject();
            g.writeStringField("label", r.label());
            g.writeStringField("family", r.family());
            g.writeBooleanField("lns", r.lns());
            g.writeNumberField("blocks", r.blocks());
            EvalResult.Settings s = r.settings();
            g.writeObjectFieldStart("settings");
            g.writeNumberField("max_length", s.maxLength());
            g.writeStringField("removal", s.removal());
            g.writeNumberField("prune", s.prune());
            g.writeStringField("pruning_chosen_on", s.pruningChosenOn());
            g.writeNumberField("prefix_token", s.prefixToken());
            g.writeStringField("changes", "removal and pruned entries: value_without - value_full; the values themselves under \"without\"");
            g.writeNumberField("requests", s.requests());
            g.writeNumberField("input_tokens", s.inputTokens());
            g.writeNumberField("passes", s.passes());
            g.writeEndObject(); // (no wall time: the file is deterministic but for provenance.date)

            g.writeObjectFieldStart("tasks");
            for (TaskResult t : r.tasks()) {
                g.writeObjectFieldStart(t.name());
                g.writeNumberField("n", t.n());
                values(g, t.full());
                g.writeArrayFieldStart("loglik");
                for (double[] item : t.loglik()) {
                    g.writeStartArray();
                    for (double v : item) num(g, v);
                    g.writeEndArray();
                }
                g.writeEndArray();
                changes(g, t);
                uncertainty(g, t.uncertainty());
                g.writeEndObject();
            }
            g.writeEndObject();

            g.writeObjectFieldStart("perplexity");
            for (DocsResult d : r.perplexity()) {
                g.writeObjectFieldStart(d.name());
                g.writeNumberField("documents", d.documents());
                g.writeNumberField("tokens", d.tokens());
                g.writeNumberField("words", d.words());
                g.writeNumberField("bytes", d.bytes());
                g.writeFieldName("loglik");
                num(g, d.loglik());
                values(g, d.full());
                changes(g, d);
                uncertainty(g, d.uncertainty());
                g.writeEndObject();
            }
            g.writeEndObject();

            g.writeArrayFieldStart("inputs");
            for (EvalResult.Input in : r.inputs()) {
                g.writeStartObject();
                g.writeStringField("kind", in.kind());
                g.writeStringField("path", in.path());
                g.writeStringField("sha256", in.sha256());
                g.writeEndObject();
            }
            g.writeEndArray();

            g.writeFieldName("provenance");
            MetricsJson.writeProvenance(g, r.provenance());
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to a string failed", e);
        }
        return sw + "\n";
    }

    /** Reads a file written by {@link #write} (for tests and for re-rendering a report). */
    public static EvalResult read(Path file) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        try {
            JsonNode st = root.get("settings");
            EvalResult.Settings s = new EvalResult.Settings(st.get("max_length").asInt(), st.get("removal").asText(),
                    st.get("prune").asInt(), st.get("pruning_chosen_on").isNull() ? null : st.get("pruning_chosen_on").asText(),
                    st.get("prefix_token").asInt(), st.get("requests").asInt(), st.get("input_tokens").asLong(),
                    st.get("passes").asInt(), Double.NaN);
            List<TaskResult> tasks = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.get("tasks").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode t = e.getValue();
                double[][] ll = new double[t.get("loglik").size()][];
                for (int i = 0; i < ll.length; i++) ll[i] = doubles(t.get("loglik").get(i));
                tasks.add(new TaskResult(e.getKey(), t.get("n").asInt(), values(t, TaskResult.METRICS), ll,
                        removal(t, TaskResult.METRICS), pruned(t, TaskResult.METRICS), uncertainty(file, t, e.getKey())));
            }
            List<DocsResult> docs = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = root.get("perplexity").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode d = e.getValue();
                docs.add(new DocsResult(e.getKey(), d.get("documents").asInt(), d.get("tokens").asLong(), d.get("words").asLong(),
                        d.get("bytes").asLong(), d.get("loglik").asDouble(), values(d, DocsResult.METRICS),
                        removal(d, DocsResult.METRICS), pruned(d, DocsResult.METRICS), uncertainty(file, d, e.getKey())));
            }
            List<EvalResult.Input> inputs = new ArrayList<>();
            for (JsonNode in : root.get("inputs")) {
                inputs.add(new EvalResult.Input(in.get("kind").asText(), in.get("path").asText(), in.get("sha256").asText()));
            }
            JsonNode pv = root.get("provenance");
            Provenance p = pv == null || pv.isNull() ? null : new Provenance(pv.get("model_path").asText(),
                    pv.get("config_sha256").asText(), pv.get("weights_sha256").asText(), pv.get("data_path").asText(),
                    pv.get("data_sha256").asText(), pv.get("windows").asInt(), pv.get("tokens").asLong(),
                    pv.get("tool_version").asText(), pv.get("date").asText(),
                    pv.path("norm_type").isTextual() ? pv.get("norm_type").asText() : null,
                    pv.path("post_num").isIntegralNumber() ? pv.get("post_num").asInt() : null,
                    pv.path("norm_source").isTextual() ? pv.get("norm_source").asText() : null,
                    pv.hasNonNull("execution") ? pv.get("execution").asText() : null);
            return new EvalResult(root.get("label").asText(), root.get("family").asText(), root.get("lns").asBoolean(),
                    root.get("blocks").asInt(), s, tasks, docs, inputs, p);
        } catch (NullPointerException e) {
            throw new org.depthlens.BadInputException(file + ": not an eval.json written by depthlens (a key is missing)");
        }
    }

    private static double num(JsonNode v) {
        return v == null || v.isNull() ? Double.NaN : v.asDouble();
    }

    private static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = num(a.get(i));
        return out;
    }

    private static Map<String, Double> values(JsonNode o, List<String> metrics) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String k : metrics) m.put(k, num(o.get(k)));
        return m;
    }

    private static List<Map<String, Double>> removal(JsonNode o, List<String> metrics) {
        List<Map<String, Double>> out = new ArrayList<>();
        for (JsonNode r : o.get("removal")) out.add(values(r.get("without"), metrics));
        return out;
    }

    private static List<FileScores.Pruned> pruned(JsonNode o, List<String> metrics) {
        List<FileScores.Pruned> out = new ArrayList<>();
        for (JsonNode r : o.get("pruned")) out.add(new FileScores.Pruned(r.get("n").asInt(), r.get("start").asInt(), values(r.get("without"), metrics)));
        return out;
    }

    /**
     * {@code "uncertainty": {method, resamples, seed, unit, units, ci95: {KEY: [lo, hi] or [[lo, hi], ...]}}}, the
     * conventions of metrics.json (docs/metrics.md, "Uncertainty of the evaluation"); null when not computed.
     */
    private static void uncertainty(JsonGenerator g, FileIntervals u) throws IOException {
        g.writeFieldName("uncertainty");
        if (u == null) {
            g.writeNull();
            return;
        }
        g.writeStartObject();
        g.writeStringField("method", u.method());
        g.writeNumberField("resamples", u.resamples());
        g.writeNumberField("seed", u.seed());
        g.writeStringField("unit", u.unit());
        g.writeNumberField("units", u.units());
        g.writeObjectFieldStart("ci95");
        for (Map.Entry<String, Band> e : u.ci95().entrySet()) {
            g.writeFieldName(e.getKey());
            MetricsJson.writeBand(g, e.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    /** A file's intervals as written by {@link #uncertainty(JsonGenerator, FileIntervals)}; null when absent (older files). */
    private static FileIntervals uncertainty(Path file, JsonNode o, String name) {
        JsonNode u = o.get("uncertainty");
        if (u == null || u.isNull()) return null;
        String at = file + ": " + name + ".uncertainty";
        JsonNode ci = u.get("ci95");
        if (!u.isObject() || ci == null || !ci.isObject()) throw new org.depthlens.BadInputException(at + " must be an object with ci95");
        Map<String, Band> bands = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = ci.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            boolean number = v.isArray() && v.size() == 2 && !v.get(0).isArray();
            JsonNode[] pairs = new JsonNode[number ? 1 : v.size()];
            for (int i = 0; i < pairs.length; i++) pairs[i] = number ? v : v.get(i);
            double[] lo = new double[pairs.length], hi = new double[pairs.length];
            for (int i = 0; i < pairs.length; i++) {
                if (pairs[i] == null || !pairs[i].isArray() || pairs[i].size() != 2) {
                    throw new org.depthlens.BadInputException(at + ".ci95." + e.getKey() + " must be [lo, hi] or a list of [lo, hi]");
                }
                lo[i] = num(pairs[i].get(0));
                hi[i] = num(pairs[i].get(1));
            }
            bands.put(e.getKey(), new Band(number ? 0 : 1, new double[][] {lo}, new double[][] {hi}));
        }
        return new FileIntervals(u.get("method").asText(), u.get("resamples").asInt(), u.get("seed").asLong(), u.get("unit").asText(),
                u.get("units").asInt(), bands, null);
    }

    private static void changes(JsonGenerator g, FileScores f) throws IOException {
        g.writeArrayFieldStart("removal");
        List<Map<String, Double>> rem = f.removal();
        for (int l = 0; l < rem.size(); l++) {
            g.writeStartObject();
            g.writeNumberField("block", l);
            values(g, f.delta(rem.get(l)));
            g.writeObjectFieldStart("without");
            values(g, rem.get(l));
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("pruned");
        for (FileScores.Pruned p : f.pruned()) {
            g.writeStartObject();
            g.writeNumberField("n", p.n());
            g.writeNumberField("start", p.start());
            values(g, f.delta(p.values()));
            g.writeObjectFieldStart("without");
            values(g, p.values());
            g.writeEndObject();
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    private static void values(JsonGenerator g, Map<String, Double> m) throws IOException {
        for (Map.Entry<String, Double> e : m.entrySet()) {
            g.writeFieldName(e.getKey());
            num(g, e.getValue());
        }
    }

    private static void num(JsonGenerator g, double v) throws IOException {
        if (Double.isFinite(v)) g.writeNumber(v);
        else g.writeNull();
    }

    private static JsonGenerator generator(StringWriter w) throws IOException {
        DefaultIndenter indenter = new DefaultIndenter("  ", "\n");
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter()
                .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        pp.indentObjectsWith(indenter);
        pp.indentArraysWith(DefaultPrettyPrinter.FixedSpaceIndenter.instance);
        JsonGenerator g = FACTORY.createGenerator(w);
        g.setPrettyPrinter(pp);
        return g;
    }
}
