package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.BadInputException;
import org.depthlens.UsageException;
import org.depthlens.analysis.DataSource;
import org.depthlens.analysis.ModelResult;
import org.depthlens.analysis.PruneChoice;
import org.depthlens.analysis.Windows;
import org.depthlens.model.Model;
import org.depthlens.model.PrunedExport;
import org.depthlens.model.family.NormChoice;
import org.depthlens.pass.Branch;
import org.depthlens.pass.Passes;
import org.depthlens.pass.Provenance;
import org.depthlens.pass.ProvenanceBuilder;
import org.depthlens.pass.Sequence;
import org.depthlens.report.MetricsJson;
import org.depthlens.util.AtomicDir;
import org.depthlens.util.Progress;
import org.depthlens.weights.SafetensorsWriter;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code depthlens prune}: choose the blocks (a list, or a rule on a finished analysis of this very model), write
 * the export into a temporary folder, re-open it and check its loss, then move it into place. A failure at any
 * step leaves nothing at OUT.
 */
public final class PruneJob {
    /** Relative agreement the verification asks for (docs/guide.md, "Export a pruned model"). */
    public static final double TOLERANCE = 1e-6;

    private PruneJob() {}

    /**
     * @param drop     the blocks given by --drop (null with --from-analysis)
     * @param analysis the analysis folder or metrics.json (null with --drop)
     */
    public record Request(Path model, NormChoice norm, int[] drop, Path analysis, int n, PruneChoice.Rule rule, Path out,
                          boolean force, boolean verify, Path text, Path ids, int window, int maxWindows, long memoryBudget) {
    }

    /** What was written and measured; {@code exportLoss} and {@code reference} are NaN without verification. */
    public record Result(int[] dropped, int blocksLeft, double exportLoss, double reference, String referenceSource) {
        String summary() {
            String d = "removed blocks " + join(dropped) + ", " + blocksLeft + " left";
            return Double.isNaN(exportLoss) ? d + ", not verified" : d + String.format(Locale.ROOT, ", loss %.8f = %s %.8f", exportLoss,
                    referenceSource, reference);
        }
    }

    /** The windows a verification runs on, and the loss it must reproduce (NaN: measure it on the source). */
    private record Check(List<int[]> windows, String data, double expected, String expectedSource) {
    }

    public static Result run(Request r, Progress progress, PrintStream log) {
        checkForce(r); // before any work: AtomicDir says the same when the folder appears meanwhile
        // a multimodal checkpoint's vision tower is carried over unchanged, not left out: nothing needs skipping
        try (Model m = Model.open(r.model(), r.norm().withSkipVision())) {
            ModelResult analysed = null;
            Path metrics = null;
            if (r.analysis() != null) {
                metrics = findAnalysis(r.analysis(), ProvenanceBuilder.weightsSha256(m), m);
                analysed = readMetrics(metrics);
                checkSameRun(analysed, metrics, m);
            }
            PruneChoice choice = r.drop() != null
                    ? new PruneChoice(Arrays.stream(r.drop()).sorted().toArray(), null, null)
                    : PruneChoice.of(analysed, r.rule(), r.n(), metrics.toString());
            PrunedExport.Plan plan = PrunedExport.plan(m, choice.drop());
            Check check = r.verify() ? check(r, m, analysed, metrics, choice) : null;
            ObjectNode record = record(r, m, analysed, metrics, choice, plan);
            log.printf("%s: %s, %d blocks; removing %s (%s), %d left%n", r.model(), m.arch().family(), m.arch().layers(),
                    join(plan.dropped()), r.drop() != null ? "--drop" : "--rule " + r.rule().name().toLowerCase(Locale.ROOT) + " --n " + r.n(),
                    plan.kept().length);
            if (!plan.carried().isEmpty()) {
                log.printf("%s: %d tensors of the vision tower and its projector copied unchanged (not run, not verified)%n", r.model(),
                        plan.carried().size());
            }
            try (AtomicDir dir = AtomicDir.create(r.out(), r.force())) {
                PrunedExport.write(m, plan, dir.path(), record, progress);
                Result res = new Result(plan.dropped(), plan.kept().length, Double.NaN, Double.NaN, null);
                if (check != null) res = verify(r, m, dir.path(), plan, check, record, progress, log);
                dir.commit();
                return res;
            }
        }
    }

    // ------------------------------------------------------------------ the analysis

    /** metrics.json of {@code run} (a file, a model's folder, or an analyze output holding one folder per model) whose weights are {@code hash}. */
    static Path findAnalysis(Path run, String hash, Model m) {
        if (Files.isRegularFile(run)) return checkHash(run, hash, m);
        if (!Files.isDirectory(run)) org.depthlens.util.InputFiles.requireRegular(run, "--from-analysis metrics.json");
        if (!Files.isDirectory(run)) throw new BadInputException(run + ": --from-analysis: no such analysis folder or metrics.json");
        if (Files.isRegularFile(run.resolve("metrics.json"))) return checkHash(run.resolve("metrics.json"), hash, m);
        List<Path> all;
        try (Stream<Path> s = Files.list(run)) {
            all = s.map(p -> p.resolve("metrics.json")).filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new BadInputException(run + ": --from-analysis: cannot list the folder (" + e.getMessage() + ")");
        }
        if (all.isEmpty()) throw new BadInputException(run + ": --from-analysis: no metrics.json in the folder or its model folders");
        for (Path p : all) {
            Provenance pv = readMetrics(p).provenance();
            if (pv != null && hash.equals(pv.weightsSha256())) return p;
        }
        throw new BadInputException(run + ": --from-analysis: none of its " + all.size() + " analysed models has the weights of " + m.dir()
                + " (weights_sha256 " + hash.substring(0, 12) + "...); prune a model with the analysis of that same model");
    }

    private static Path checkHash(Path file, String hash, Model m) {
        Provenance pv = readMetrics(file).provenance();
        if (pv == null) throw new BadInputException(file + ": --from-analysis: no provenance, so nothing shows it analysed " + m.dir());
        if (!hash.equals(pv.weightsSha256())) {
            throw new BadInputException(file + ": --from-analysis: provenance weights_sha256 " + abbrev(pv.weightsSha256()) + " is not that of "
                    + m.dir() + " (" + abbrev(hash) + "); the analysis was of other weights (" + pv.modelPath() + ")");
        }
        return file;
    }

    private static ModelResult readMetrics(Path file) {
        try {
            return MetricsJson.read(file);
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Same blocks and same block forms as the analysed run, or the numbers cannot be compared. */
    private static void checkSameRun(ModelResult a, Path file, Model m) {
        if (a.metrics().blocks() != m.arch().layers()) {
            throw new BadInputException(file + ": --from-analysis: the analysis has " + a.metrics().blocks() + " blocks, the model "
                    + m.arch().layers());
        }
        String ran = a.provenance().normType();
        String now = m.arch().norm().type().code();
        if (ran != null && !ran.equals(now)) {
            throw new BadInputException(file + ": --from-analysis: the analysis ran the blocks as " + a.provenance().normLabel()
                    + ", this prune opens them as " + m.arch().norm().describe() + "; give the same --norm-type/--lns as the analysis");
        }
    }

    // ------------------------------------------------------------------ verification

    private static Check check(Request r, Model m, ModelResult a, Path metrics, PruneChoice choice) {
        if (r.text() != null || r.ids() != null) {
            DataSource data = r.text() != null ? DataSource.text(r.text()) : DataSource.ids(r.ids());
            List<int[]> w = data.windows(m.dir(), r.window(), r.maxWindows());
            Windows.validate(w, m.arch().vocab(), m.arch().maxPositions(), data.path().toString(), true);
            return new Check(w, data.path().toString(), Double.NaN, null);
        }
        Provenance pv = a.provenance();
        Path data = Path.of(pv.dataPath());
        if (!data.isAbsolute()) {
            // an analysis that recorded the path as typed: relative to where analyze ran (most often here), else beside
            // the analysis; the data_sha256 check below refuses whichever is not the analysed data
            Path here = RunOptions.abs(data);
            data = Files.exists(here) ? here : metrics.getParent().resolve(data);
        }
        String why = null;
        DataSource src = null;
        if (!Files.exists(data)) {
            why = "is missing";
        } else {
            src = data.getFileName().toString().endsWith(".json") ? DataSource.ids(data) : DataSource.text(data);
            if (!ProvenanceBuilder.sha256(src.bytes()).equals(pv.dataSha256())) why = "has changed since the analysis (data_sha256 differs)";
        }
        if (why != null || pv.windows() < 1 || pv.tokens() % pv.windows() != 0) {
            throw new BadInputException(metrics + ": --verify: the analysis' data " + data + " " + (why != null ? why : "was not cut into equal windows")
                    + "; give --text or --ids to verify on, or --no-verify");
        }
        List<int[]> w = src.windows(m.dir(), (int) (pv.tokens() / pv.windows()), pv.windows());
        long tokens = w.stream().mapToLong(x -> x.length).sum();
        if (w.size() != pv.windows() || tokens != pv.tokens()) {
            throw new BadInputException(metrics + ": --verify: " + data + " gives " + w.size() + " windows of " + tokens + " tokens, the analysis had "
                    + pv.windows() + " of " + pv.tokens() + "; give --text or --ids to verify on, or --no-verify");
        }
        double expected = choice.expected() == null ? Double.NaN : choice.expected();
        return new Check(w, data.toString(), expected, choice.source() == null ? null : "the analysis' " + choice.source());
    }

    private static Result verify(Request r, Model source, Path written, PrunedExport.Plan plan, Check c, ObjectNode record,
                                 Progress progress, PrintStream log) {
        double full = Double.NaN;
        double reference = c.expected();
        String refSource = c.expectedSource();
        org.depthlens.model.WeightPool pool = source.newPool();
        if (Double.isNaN(reference)) {
            Branch drop = new Branch.Drop(Arrays.stream(plan.dropped()).boxed().toList());
            double[] l = losses(source, pool, c.windows(), drop, r.memoryBudget(), (d, t, w) -> progress.update(d, t, "verify (source): " + w));
            full = l[0];
            reference = l[1];
            refSource = "the source with blocks " + join(plan.dropped()) + " skipped";
        }
        double exported;
        try (Model e = Model.open(written, NormChoice.AUTO.withSkipVision())) {
            // the export's blocks have the source's shapes: one set of float32 block buffers serves both passes
            exported = losses(e, pool.reusedFor(e.checkpoint()), c.windows(), null, r.memoryBudget(),
                    (d, t, w) -> progress.update(d, t, "verify (export): " + w))[0];
        }
        double rel = Math.abs(exported - reference) / Math.abs(reference);
        log.printf(Locale.ROOT, "verify: loss of the export %.10f, %s %.10f (relative difference %.2e, tolerance %.0e; %d windows of %s)%n",
                exported, refSource, reference, rel, TOLERANCE, c.windows().size(), c.data());
        if (!(rel <= TOLERANCE)) {
            throw new BadInputException(r.out() + ": --verify: the export's loss " + String.format(Locale.ROOT, "%.10f", exported) + " differs from "
                    + refSource + " " + String.format(Locale.ROOT, "%.10f", reference) + " by " + String.format(Locale.ROOT, "%.2e", rel)
                    + " relative (more than " + TOLERANCE + "); nothing was written");
        }
        ObjectNode v = record.putObject("verification");
        v.put("data", c.data());
        v.put("windows", c.windows().size());
        v.put("tokens", c.windows().stream().mapToLong(x -> x.length).sum());
        v.put("export_loss", exported);
        v.put("reference_loss", reference);
        v.put("reference", refSource);
        v.put("relative_difference", rel);
        v.put("tolerance", TOLERANCE);
        if (!Double.isNaN(full)) {
            ObjectNode d = record.with("damage");
            d.put("loss_full", full);
            d.put("loss_pruned", reference);
            d.put("loss_increase", reference - full);
            d.put("measured_on", c.data());
        }
        writeRecord(written, record);
        return new Result(plan.dropped(), plan.kept().length, exported, reference, refSource);
    }

    /** {mean loss of the main stream, mean loss of {@code branch} (NaN when null)} on {@code windows}. */
    static double[] losses(Model m, org.depthlens.model.WeightPool pool, List<int[]> windows, Branch branch, long budget, Progress progress) {
        List<Sequence> seqs = windows.stream().map(Sequence::window).toList();
        Passes.Request req = new Passes.Request(branch == null ? List.of() : List.of(branch), true, false, 0, null, List.of());
        Passes.Outcome o = new Passes(m, pool, budget, progress).run(seqs, req);
        long count = 0;
        for (Sequence s : seqs) count += s.targets().length;
        return new double[] {-Passes.sum(o.main()) / count, branch == null ? Double.NaN : -Passes.sum(o.loglik().get(branch)) / count};
    }

    // ------------------------------------------------------------------ record and output

    private static ObjectNode record(Request r, Model m, ModelResult a, Path metrics, PruneChoice choice, PrunedExport.Plan plan) {
        ObjectNode rec = new ObjectMapper().createObjectNode();
        rec.put("written_by", ProvenanceBuilder.toolVersion() + " prune");
        rec.put("date", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        ObjectNode s = rec.putObject("source");
        s.put("model_path", m.dir().toString());
        s.put("family", m.arch().family());
        s.put("blocks", m.arch().layers());
        s.put("config_sha256", ProvenanceBuilder.sha256(m.dir().resolve("config.json")));
        s.put("weights_sha256", ProvenanceBuilder.weightsSha256(m));
        s.put("norm_type", m.arch().norm().type().code());
        ArrayNode dropped = rec.putArray("dropped_blocks");
        for (int d : plan.dropped()) dropped.add(d);
        ArrayNode kept = rec.putArray("kept_blocks");
        for (int k : plan.kept()) kept.add(k);
        rec.put("indexing", "0-based original block indices; block j of the export is kept_blocks[j] of the source");
        ObjectNode rule = rec.putObject("rule");
        if (r.drop() != null) {
            rule.put("kind", "drop");
        } else {
            rule.put("kind", r.rule().name().toLowerCase(Locale.ROOT));
            rule.put("n", r.n());
            rule.put("analysis", metrics.toString());
        }
        if (m.arch().lns()) {
            rec.put("lns", "each kept block keeps the LayerNorm Scaling factor of its original depth: config.json's layernorm_scaling "
                    + "lists them per block (depthlens reads it; plain HF ignores LNS, as it did for the source; fold-lns makes it plain HF)");
        }
        if (!plan.carried().isEmpty()) {
            rec.put("vision", plan.carried().size() + " tensors of the vision tower and its projector copied byte for byte under their own"
                    + " names; the verification runs the language model only");
        }
        if (plan.wroteLayerTypes()) rec.put("layer_types", "written: the family's window rule cannot place the kept blocks' sliding windows");
        if (a != null) {
            ObjectNode d = rec.putObject("damage");
            d.put("loss_full", a.metrics().loss());
            if (choice.expected() != null) {
                d.put("loss_pruned", choice.expected());
                d.put("loss_increase", choice.expected() - a.metrics().loss());
                d.put("source", "analysis " + choice.source());
            }
            d.put("measured_on", a.provenance().dataPath());
        }
        return rec;
    }

    private static void writeRecord(Path dir, ObjectNode record) {
        try {
            SafetensorsWriter.writeAtomically(dir.resolve(PrunedExport.RECORD),
                    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(record));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Before any work, what {@link AtomicDir} says at the end: OUT must not exist, or with --force be a folder depthlens wrote. */
    private static void checkForce(Request r) {
        Path o = r.out();
        if (!Files.exists(o, LinkOption.NOFOLLOW_LINKS)) return;
        if (!r.force()) throw new BadInputException(o + ": output already exists (use --force to replace it)");
        if (Files.isSymbolicLink(o) || !AtomicDir.isOurFolder(o)) {
            throw new UsageException("--force: " + o + " is not a folder depthlens wrote (no " + AtomicDir.MARKER
                    + " in it); it is not replaced (delete it yourself, or give another output path)");
        }
    }

    private static String abbrev(String hash) {
        return hash == null ? "null" : hash.substring(0, Math.min(12, hash.length())) + "...";
    }

    static String join(int[] xs) {
        return String.join(",", Arrays.stream(xs).mapToObj(Integer::toString).toList());
    }
}
