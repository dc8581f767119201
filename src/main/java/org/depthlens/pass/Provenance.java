package org.depthlens.pass;

/**
 * Where a result came from. {@code weightsSha256} hashes each safetensors file's header bytes and
 * size, in file-name order (cheap on 100 GB checkpoints, yet changes with any re-save).
 *
 * @param normType   the block normalisation the model ran with (a NORM_TYPE name: pre, LNS, post_pre, ...), or null
 *                   in files written before it was recorded
 * @param postNum    Mix-LN's POST_NUM (post_pre, scale_post_pre), else null
 * @param normSource how the form was chosen ("--norm-type", "config.json norm_type", "detected from the norm tensors", ...)
 * @param execution  how a distributed run was executed, e.g. "Apache Spark 4.0.4, master local[2], 6 tasks in 2 stages";
 *                   null for one process (and then absent from the files)
 */
public record Provenance(String modelPath, String configSha256, String weightsSha256, String dataPath,
                         String dataSha256, int windows, long tokens, String toolVersion, String date,
                         String normType, Integer postNum, String normSource, String execution) {
    /** Provenance without the block normalisation (files written before it was recorded). */
    public Provenance(String modelPath, String configSha256, String weightsSha256, String dataPath, String dataSha256, int windows,
                      long tokens, String toolVersion, String date) {
        this(modelPath, configSha256, weightsSha256, dataPath, dataSha256, windows, tokens, toolVersion, date, null, null, null);
    }

    /** Provenance of a single-process run. */
    public Provenance(String modelPath, String configSha256, String weightsSha256, String dataPath, String dataSha256, int windows,
                      long tokens, String toolVersion, String date, String normType, Integer postNum, String normSource) {
        this(modelPath, configSha256, weightsSha256, dataPath, dataSha256, windows, tokens, toolVersion, date, normType, postNum,
                normSource, null);
    }

    /** The same provenance with where it ran. */
    public Provenance withExecution(String e) {
        return new Provenance(modelPath, configSha256, weightsSha256, dataPath, dataSha256, windows, tokens, toolVersion, date,
                normType, postNum, normSource, e);
    }

    /** "Mix-LN (post_pre, POST_NUM=2)", "LNS", "Pre-LN (pre)"; null when not recorded. */
    public String normLabel() {
        org.depthlens.model.family.NormType t = normType == null ? null : org.depthlens.model.family.NormType.parse(normType);
        return t == null ? normType : t.describe(postNum == null ? 1 : postNum);
    }
}
