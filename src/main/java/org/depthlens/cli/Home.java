package org.depthlens.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** The project folder (set by the ./depthlens launcher), where the bundled demo, analyses/ and reports/ live. */
final class Home {
    private Home() {}

    static Path dir() {
        String p = System.getProperty("depthlens.home");
        if (p != null) return Path.of(p).toAbsolutePath().normalize();
        return Path.of("").toAbsolutePath();
    }

    static Path bundledModels() {
        return dir().resolve("models/tiny-curse-24");
    }

    /** Default text of the bundled demo: the project's own documentation. */
    static Path bundledText() {
        return dir().resolve("docs");
    }

    static boolean hasBundledDemo() {
        return Files.isDirectory(bundledModels().resolve("pre_ln")) && Files.isDirectory(bundledModels().resolve("lns"));
    }
}
