package org.depthlens.pass;

/**
 * Where a result came from. {@code weightsSha256} hashes each safetensors file's header bytes and
 * size, in file-name order (cheap on 100 GB checkpoints, yet changes with any re-save). {@code execution} says
 * how a distributed run was executed (null for one process, and then absent from the files).
 */
public record Provenance(String modelPath, String configSha256, String weightsSha256, String dataPath,
                         String dataSha256, int windows, long tokens, String toolVersion, String date, String execution) {
    /** A single-process run: no {@code execution} entry. */
    public Provenance(String modelPath, String configSha256, String weightsSha256, String dataPath, String dataSha256,
                      int windows, long tokens, String toolVersion, String date) {
        this(modelPath, configSha256, weightsSha256, dataPath, dataSha256, windows, tokens, toolVersion, date, null);
    }

    /** The same provenance with where it ran, e.g. "Apache Spark 4.0.4, master local[2], 6 tasks in 2 stages". */
    public Provenance withExecution(String e) {
        return new Provenance(modelPath, configSha256, weightsSha256, dataPath, dataSha256, windows, tokens, toolVersion, date, e);
    }
}
