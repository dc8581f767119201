package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.report.Html;
import org.depthlens.report.ReportContext;
import org.depthlens.report.ReportSection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The models a {@code --keep-going} run left out, and why. The report says so where it cannot be missed (its title
 * names only the models it holds, and a first section lists the others with their error), and the output folder
 * records them in {@code skipped.json}, next to the models' own metrics.
 */
final class Skips {
    static final String FILE = "skipped.json";

    record Skip(String label, Path dir, String reason) {
    }

    private final List<Skip> list = Collections.synchronizedList(new ArrayList<>());

    void add(ModelSpec spec, String reason) {
        list.add(new Skip(spec.label(), spec.dir(), reason));
    }

    List<Skip> all() {
        synchronized (list) {
            return List.copyOf(list);
        }
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    /** "depthlens: a vs b", plus "(c skipped)" when models were left out. */
    String title(String prefix, List<String> reported) {
        String t = prefix + String.join(" vs ", reported);
        List<Skip> s = all();
        if (!s.isEmpty()) t += " (" + String.join(", ", s.stream().map(Skip::label).toList()) + " skipped: --keep-going)";
        return t;
    }

    /** The sections with "Models left out" first, when there are any. */
    List<ReportSection> sections(List<ReportSection> sections) {
        if (isEmpty()) return sections;
        List<ReportSection> out = new ArrayList<>();
        out.add(section());
        out.addAll(sections);
        return out;
    }

    private ReportSection section() {
        List<Skip> s = all();
        return new ReportSection() {
            @Override
            public String id() {
                return "skipped";
            }

            @Override
            public String title() {
                return "Models left out";
            }

            @Override
            public void render(ReportContext ctx, Html out) {
                out.raw("<p><b>").text(s.size() + (s.size() == 1 ? " model was" : " models were"))
                        .raw("</b> left out of this report (--keep-going): no number below comes from ")
                        .text(s.size() == 1 ? "it" : "them").raw(".</p>\n<ul>\n");
                for (Skip k : s) out.raw("<li><b>").text(k.label()).raw("</b> (").text(k.dir().toString()).raw("): ").text(k.reason()).raw("</li>\n");
                out.raw("</ul>\n");
            }
        };
    }

    /** {@code dir/skipped.json}: label, folder and error of every model left out (nothing when none was). */
    void write(Path dir) throws IOException {
        if (isEmpty()) return;
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        ArrayNode a = root.putArray("skipped");
        for (Skip k : all()) a.addObject().put("label", k.label()).put("model", k.dir().toString()).put("reason", k.reason());
        Files.write(dir.resolve(FILE), json.writeValueAsBytes(root));
    }
}
