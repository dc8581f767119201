package org.depthlens;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The packages depend on each other only in data-flow order (docs/design.md), so none can depend on itself
 * through others: the JDK's {@code jdeps} lists what the compiled main classes use, and every edge must go
 * to a strictly lower layer.
 */
class PackageLayersTest {
    /** Layer of each package (suffix after org.depthlens; "" is the root package). Same layer: no edges. */
    static final Map<String, Integer> LAYERS = Map.ofEntries(
            Map.entry("", 0), Map.entry("util", 1), Map.entry("stats", 1),
            Map.entry("weights", 2), Map.entry("text", 2),
            Map.entry("model.family", 3),
            Map.entry("model", 4),
            Map.entry("probe", 5),
            Map.entry("pass", 6),
            Map.entry("analysis", 7), Map.entry("eval", 7),
            Map.entry("report", 8), Map.entry("bench", 8),
            Map.entry("spark", 9),
            Map.entry("cli", 10));

    @Test
    void packagesDependOnlyOnLowerLayers() throws Exception {
        Map<String, Set<String>> edges = edges();
        assertTrue(edges.size() >= 10, "jdeps found only " + edges.keySet());
        List<String> problems = problems(edges);
        if (!problems.isEmpty()) fail(String.join("\n", problems));
    }

    @Test
    void theCheckCanFail() {
        Map<String, Set<String>> bad = new TreeMap<>();
        bad.put("analysis", Set.of("report", "model"));
        bad.put("eval", Set.of("analysis"));
        bad.put("newpkg", Set.of("model"));
        bad.put("report", Set.of("analysis"));
        assertEquals(List.of("org.depthlens.analysis -> org.depthlens.report goes against the data flow",
                "org.depthlens.eval -> org.depthlens.analysis goes against the data flow",
                "package org.depthlens.newpkg has no layer in PackageLayersTest.LAYERS (and docs/design.md)"), problems(bad));
    }

    /** Every edge that does not go to a strictly lower layer, and every package without a layer. */
    static List<String> problems(Map<String, Set<String>> edges) {
        List<String> problems = new ArrayList<>();
        edges.forEach((from, tos) -> {
            Integer lf = LAYERS.get(from);
            if (lf == null) {
                problems.add("package " + name(from) + " has no layer in PackageLayersTest.LAYERS (and docs/design.md)");
                return;
            }
            for (String to : tos) {
                Integer lt = LAYERS.get(to);
                if (lt != null && lt >= lf) problems.add(name(from) + " -> " + name(to) + " goes against the data flow");
            }
        });
        return problems;
    }

    private static String name(String p) {
        return p.isEmpty() ? "org.depthlens" : "org.depthlens." + p;
    }

    /** Package -> packages it uses, depthlens packages only, from jdeps on the main classes. */
    static Map<String, Set<String>> edges() throws Exception {
        Path classes = Path.of(ExitCodes.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("jdeps is not in this JDK"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = jdeps.run(new PrintWriter(out), new PrintWriter(err), "-verbose:package", "-filter:none", classes.toString());
        assertEquals(0, rc, "jdeps failed: " + err);
        Pattern line = Pattern.compile("^\\s+org\\.depthlens((?:\\.[a-z0-9]+)*)\\s+->\\s+org\\.depthlens((?:\\.[a-z0-9]+)*)\\s");
        Map<String, Set<String>> edges = new TreeMap<>();
        for (String l : out.toString().split("\n")) {
            Matcher m = line.matcher(l + " ");
            if (!m.find()) continue;
            String from = m.group(1).isEmpty() ? "" : m.group(1).substring(1); // subpackages too (model.family)
            String to = m.group(2).isEmpty() ? "" : m.group(2).substring(1);
            edges.computeIfAbsent(from, k -> new TreeSet<>());
            if (!from.equals(to)) edges.get(from).add(to);
        }
        return edges;
    }
}
