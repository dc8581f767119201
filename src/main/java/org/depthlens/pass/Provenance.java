package org.depthlens.pass;

/**
 * Where a result came from. {@code weightsSha256} hashes each safetensors file's header bytes and
 * size, in file-name order (cheap on 100 GB checkpoints, yet changes with any re-save).
 */
public record Provenance(String modelPath, String configSha256, String weightsSha256, String dataPath,
                         String dataSha256, int windows, long tokens, String toolVersion, String date) {
}
