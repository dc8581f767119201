package org.depthlens.text;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Locates the read-only reference data (system property {@code depthlens.shared}, set by surefire). */
final class SharedData {
    private SharedData() {}

    static Path root() {
        Path p = Paths.get(System.getProperty("depthlens.shared", "../shared")).toAbsolutePath().normalize();
        assumeTrue(Files.isDirectory(p), "shared reference data not found at " + p);
        return p;
    }

    static Path tokenizers() {
        return root().resolve("tokenizers");
    }

    static Path tinyCurse() {
        return root().resolve("checkpoints").resolve("tiny-curse-24");
    }
}
