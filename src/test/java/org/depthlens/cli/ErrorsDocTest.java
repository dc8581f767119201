package org.depthlens.cli;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** docs/errors.md: at least 30 bad inputs, documented exit codes only, and every row names a test that exists. */
class ErrorsDocTest {
    private static final Pattern ROW = Pattern.compile("^\\|\\s*(\\d+)\\s*\\|(.*)\\|\\s*(\\d+)\\s*\\|\\s*([A-Za-z]+)#([A-Za-z0-9_]+)\\s*\\|\\s*$");

    @Test
    void everyRowHasADocumentedExitCodeAndATest() throws Exception {
        Path root = Path.of(System.getProperty("depthlens.root", "."));
        Path doc = root.resolve("docs/errors.md");
        List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
        assertTrue(Files.readString(root.resolve("README.md")).contains("(docs/errors.md)"), "README links docs/errors.md");
        List<String> problems = new ArrayList<>();
        int rows = 0;
        for (String line : lines) {
            if (!line.matches("^\\|\\s*\\d+\\s*\\|.*")) continue;
            Matcher m = ROW.matcher(line);
            if (!m.matches()) {
                problems.add("malformed row: " + line);
                continue;
            }
            rows++;
            if (Integer.parseInt(m.group(1)) != rows) problems.add("row " + m.group(1) + " out of order");
            int code = Integer.parseInt(m.group(3));
            if (!Set.of(0, 1, 2, 3, 130).contains(code)) problems.add("row " + rows + ": undocumented exit code " + code);
            String cls = "org.depthlens.cli." + m.group(4);
            try {
                Method t = Class.forName(cls).getDeclaredMethod(m.group(5));
                if (!t.isAnnotationPresent(Test.class)) problems.add("row " + rows + ": " + cls + "#" + m.group(5) + " is not a @Test");
            } catch (ClassNotFoundException | NoSuchMethodException e) {
                problems.add("row " + rows + ": no test " + cls + "#" + m.group(5));
            }
        }
        if (!problems.isEmpty()) fail(String.join("\n", problems));
        assertTrue(rows >= 30, "only " + rows + " rows");
    }
}
