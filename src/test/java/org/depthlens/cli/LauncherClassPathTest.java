package org.depthlens.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The single-machine launcher's class path (target/lib = the runtime scope, {@code target/runtime.classpath}) holds
 * no Spark, and the CLI runs on exactly it: Spark's "provided" scope must not take a library ND4J needs with it
 * (it did: commons-io). {@code --spark} there is one clear line.
 */
class LauncherClassPathTest {
    @TempDir
    Path tmp;

    @Test
    void analyzeRunsOnTheLaunchersClassPathWithoutSpark() throws Exception {
        Path root = Path.of(System.getProperty("depthlens.root", "."));
        String runtime = Files.readString(root.resolve("target/runtime.classpath")).trim();
        List<String> jars = Arrays.asList(runtime.split(java.io.File.pathSeparator));
        assertTrue(jars.stream().noneMatch(j -> j.contains("/org/apache/spark/") || j.contains("/org/scala-lang/")), runtime);
        // and the class path with Spark (launcher --spark, the cluster test's JVMs) holds every one of them
        List<String> withSpark = Arrays.asList(Files.readString(root.resolve("target/spark.classpath")).trim().split(java.io.File.pathSeparator));
        for (String j : jars) assertTrue(withSpark.contains(j), "target/spark.classpath lacks " + j);
        String cp = root.resolve("target/classes") + java.io.File.pathSeparator + runtime;
        Path model = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        Path out = tmp.resolve("out");
        List<String> args = List.of(Cli.java(), "-Xmx1g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dorg.bytedeco.javacpp.maxbytes=0",
                "-Dai.djl.offline=true", "-Djava.awt.headless=true", "-cp", cp, Main.class.getName(), "analyze", "-m", model.toString(),
                "--ids", ids.toString(), "--window", "32", "--prune", "1", "-o", out.toString());
        Cli.Result r = Cli.runProcess(args, tmp, 300);
        assertEquals(0, r.code(), r::describe);
        assertTrue(Files.isRegularFile(out.resolve("llama/metrics.json")));

        List<String> spark = new java.util.ArrayList<>(args);
        spark.set(spark.indexOf(out.toString()), tmp.resolve("out2").toString());
        spark.addAll(List.of("--spark", "local[2]"));
        Cli.assertError(Cli.runProcess(spark, tmp, 300), 3, "--spark: Apache Spark is not on the class path");
        Cli.assertNothingLeft(tmp.resolve("out2"));
    }
}
