package org.depthlens.report;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The full report of the four reference models, written once per test JVM (it takes a few seconds)
 * and shared by the tests that only read it.
 */
final class SharedReport {
    private static Path dir;
    private static ReportOutput output;

    private SharedReport() {}

    static synchronized ReportOutput get() {
        if (output == null) {
            try {
                dir = Files.createTempDirectory("depthlens-report-test");
                Path root = dir;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
                output = ReportWriter.writeAll(ReferenceData.all(), dir.resolve("report"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return output;
    }

    static void deleteTree(Path root) {
        try (var walk = Files.walk(root)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort: a leftover temp directory is harmless
        }
    }

    static Path dir() {
        get();
        return dir.resolve("report");
    }
}
