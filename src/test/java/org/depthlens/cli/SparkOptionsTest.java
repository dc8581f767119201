package org.depthlens.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.depthlens.cli.Cli.assertError;

/** The Spark options' usage errors, each one line before anything is computed or written. */
class SparkOptionsTest {
    @TempDir
    Path tmp;

    @Test
    void badSparkOptions() throws Exception {
        Path model = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        Path out = tmp.resolve("out");
        String[] base = {"analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "32", "-o", out.toString()};
        assertError(run(base, "--spark", "local[2]", "--spark-conf", "spark.executor.memory"), 2,
                "--spark-conf wants KEY=VALUE, got 'spark.executor.memory'");
        assertError(run(base, "--spark", "local[2]", "--windows-per-task", "0"), 2, "--windows-per-task must be positive, got 0");
        assertError(run(base, "--windows-per-task", "4"), 2, "--windows-per-task needs --spark");
        assertError(run(base, "--spark"), 3, "--spark: no master given and none from spark-submit; give --spark local[N] or "
                + "--spark spark://HOST:PORT");
        Cli.assertNothingLeft(out);
    }

    private static Cli.Result run(String[] base, String... more) {
        String[] a = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, a, base.length, more.length);
        return Cli.run(a);
    }
}
