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
 * eval.json equal as JSON but for provenance.date and provenance.execution, every number bitwise (the design
 * guarantees it on any host: docs/design.md, "Same numbers whatever the grouping"); every other file byte for
 * byte, report.html after removing the dates and the execution row. Charts and report equal because the numbers do.
 */
final class SameOutputs {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SameOutputs() {}

    static void assertSame(Path single, Path spark) throws IOException {
        assertSame(single, spark, true);
    }

    /** Two output folders, the second from Spark or (false) from another single-process run. */
    static void assertSame(Path single, Path spark, boolean isSpark) throws IOException {
        assertSame(single, spark, isSpark, true);
    }

    /**
     * A Spark run that cut the work into other groups ({@code --windows-per-task}): the same, but for eval.json's
     * {@code settings.passes}, which counts the groups run (docs/guide.md).
     */
    static void assertSameInOtherGroups(Path single, Path spark) throws IOException {
        assertSame(single, spark, true, false);
    }

    private static void assertSame(Path single, Path spark, boolean isSpark, boolean sameGroups) throws IOException {
        List<Path> a = files(single);
        List<Path> b = files(spark);
        assertEquals(a, b, "the same files");
        for (Path rel : a) {
            Path x = single.resolve(rel);
            Path y = spark.resolve(rel);
            String name = rel.getFileName().toString();
            if (name.equals("metrics.json") || name.equals("eval.json")) {
                // number by number first, for a message naming the first that differs
                JsonNode jx = strip(JSON.readTree(x.toFile()), false);
                JsonNode jy = strip(JSON.readTree(y.toFile()), isSpark);
                if (!sameGroups && name.equals("eval.json")) {
                    ((ObjectNode) jx.get("settings")).remove("passes");
                    ((ObjectNode) jy.get("settings")).remove("passes");
                }
                compare(rel.toString(), jx, jy);
            } else if (name.equals("report.html")) {
                assertEquals(html(Files.readString(x)), html(Files.readString(y)), rel + " differs");
            } else {
                assertArrayEquals(Files.readAllBytes(x), Files.readAllBytes(y), rel + " differs");
            }
        }
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

    private static void compare(String where, JsonNode x, JsonNode y) {
        if (x.isNumber() && y.isNumber()) {
            double u = x.asDouble(), v = y.asDouble();
            if (Double.doubleToLongBits(u) != Double.doubleToLongBits(v)) {
                fail(where + ": " + u + " vs " + v + " (relative " + Math.abs(u - v) / Math.max(Math.abs(u), Math.abs(v)) + ")");
            }
            return;
        }
        assertEquals(x.getNodeType(), y.getNodeType(), where);
        assertEquals(x.size(), y.size(), where);
        if (x.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = x.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                assertTrue(y.has(e.getKey()), where + "." + e.getKey());
                compare(where + "." + e.getKey(), e.getValue(), y.get(e.getKey()));
            }
        } else if (x.isArray()) {
            for (int i = 0; i < x.size(); i++) compare(where + "[" + i + "]", x.get(i), y.get(i));
        } else {
            assertEquals(x, y, where);
        }
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
