package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Compares the output folder of a Spark run with that of a single-process run: the same files; metrics.json and
 * eval.json equal as JSON but for provenance.date and provenance.execution (numbers bitwise, or within a relative
 * tolerance for the probe-sum metrics); every other file byte for byte, report.html after removing the dates and
 * the execution row.
 */
final class SameOutputs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SameOutputs() {}

    /** Keys of metrics.json holding log-likelihood metrics, which stay bitwise under any grouping. */
    static final List<String> LOGLIK = List.of("loss", "loss_without_layer", "pruned_removal");

    /**
     * @param probeTolerance 0: every number bitwise; else the relative tolerance of the probe-sum metrics
     * @return the largest relative difference of any number
     */
    static double assertSame(Path single, Path spark, double probeTolerance) throws IOException {
        List<Path> a = files(single);
        List<Path> b = files(spark);
        assertEquals(a, b, "the same files");
        double worst = 0;
        for (Path rel : a) {
            Path x = single.resolve(rel);
            Path y = spark.resolve(rel);
            String name = rel.getFileName().toString();
            if (name.equals("metrics.json") || name.equals("eval.json")) {
                JsonNode jx = strip(JSON.readTree(x.toFile()), false);
                JsonNode jy = strip(JSON.readTree(y.toFile()), true);
                if (probeTolerance == 0) {
                    assertEquals(jx, jy, rel + " differs");
                } else {
                    worst = Math.max(worst, compare(rel.toString(), jx, jy, probeTolerance, false));
                }
            } else if (name.equals("report.html")) {
                if (probeTolerance == 0) assertEquals(html(Files.readString(x)), html(Files.readString(y)), rel + " differs");
            } else if (probeTolerance == 0 || name.endsWith(".csv") && name.startsWith("eval")) {
                assertArrayEquals(Files.readAllBytes(x), Files.readAllBytes(y), rel + " differs");
            }
        }
        return worst;
    }

    /** Provenance without date and execution; checks the Spark run recorded its execution. */
    private static JsonNode strip(JsonNode root, boolean spark) {
        JsonNode p = root.get("provenance");
        if (p instanceof ObjectNode o) {
            o.remove("date");
            JsonNode e = o.remove("execution");
            if (spark) {
                assertTrue(e != null && e.asText().startsWith("Apache Spark "), "provenance.execution: " + e);
            } else {
                assertEquals(null, e, "a single-process run records no execution");
            }
        }
        return root;
    }

    private static double compare(String where, JsonNode x, JsonNode y, double tol, boolean exact) {
        if (x.isNumber() && y.isNumber()) {
            double u = x.asDouble();
            double v = y.asDouble();
            if (exact) {
                assertEquals(u, v, 0, where + " (log-likelihood metric: bitwise)");
                return 0;
            }
            double rel = u == v ? 0 : Math.abs(u - v) / Math.max(Math.abs(u), Math.abs(v));
            if (!(rel <= tol)) fail(where + ": " + u + " vs " + v + " (relative " + rel + ")");
            return rel;
        }
        assertEquals(x.getNodeType(), y.getNodeType(), where);
        assertEquals(x.size(), y.size(), where);
        double worst = 0;
        if (x.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = x.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                assertTrue(y.has(e.getKey()), where + "." + e.getKey());
                worst = Math.max(worst, compare(where + "." + e.getKey(), e.getValue(), y.get(e.getKey()), tol,
                        exact || where.endsWith("metrics.json") && LOGLIK.contains(e.getKey())));
            }
        } else if (x.isArray()) {
            for (int i = 0; i < x.size(); i++) worst = Math.max(worst, compare(where + "[" + i + "]", x.get(i), y.get(i), tol, exact));
        } else {
            assertEquals(x, y, where);
        }
        return worst;
    }

    /** report.html without what differs by design: dates and the execution row / entries. */
    static String html(String s) {
        return s.replaceAll("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ", "DATE")
                .replaceAll("(?s)<tr><th>Executed on</th>.*?</tr>\\n?", "")
                .replaceAll(",?\\s*\"execution\"\\s*:\\s*\"[^\"]*\"", "");
    }

    private static List<Path> files(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            List<Path> out = new ArrayList<>(s.filter(Files::isRegularFile).map(root::relativize).sorted().toList());
            return out;
        }
    }
}
