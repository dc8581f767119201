package org.depthlens.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.depthlens.BadInputException;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.Families;
import org.depthlens.model.family.NormChoice;
import org.depthlens.model.family.TensorCheck;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.ConfigReader;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint opened for execution: its family's description of config.json, checked against every
 * tensor of the memory-mapped weights ({@link TensorCheck}).
 * Nothing but the final norm (and small embeddings) is held; blocks are loaded one at a time.
 */
public final class Model implements AutoCloseable {
    /** Embeddings up to this float32 size are kept in memory; larger ones are read row by row. */
    private static final long CACHED_EMBEDDING_BYTES = 256L << 20;

    private final Path dir;
    private final Architecture arch;
    private final List<Rope> ropes;
    private final Checkpoint checkpoint;
    /** config.json as it was read and described (prune rewrites this very JSON, not a second read of the file). */
    private final JsonNode config;
    private INDArray embedding;
    private Head head;

    private Model(Path dir, Architecture arch, List<Rope> ropes, Checkpoint checkpoint, JsonNode config) {
        this.dir = dir;
        this.config = config;
        this.arch = arch;
        this.ropes = ropes;
        this.checkpoint = checkpoint;
    }

    public static Model open(Path dir, Architecture.LnsMode lns) {
        return open(dir, NormChoice.of(lns));
    }

    /**
     * Opens {@code dir} with the block normalisation {@code norm} asks for (or the norm tensors show); what the
     * files could not tell and was assumed goes to stderr as one "depthlens: note:" line.
     */
    public static Model open(Path dir, NormChoice norm) {
        Blas.configure(); // no-op when Main (or an earlier open) already chose
        JsonNode json = ConfigReader.readJson(dir);
        Path configFile = dir.resolve("config.json");
        int[] fp8 = new ConfigReader(configFile, json, Map.of()).fp8BlockSize();
        Checkpoint ck = Checkpoint.open(dir);
        try {
            Architecture arch = Families.describe(configFile, json, norm, ck.tensors(), fromTrainingCode(json, ck));
            if (arch.norm().note() != null) System.err.println("depthlens: note: " + arch.norm().note());
            List<Rope> ropes = arch.ropes().stream().map(r -> rope(arch, r)).toList();
            ck.setFp8BlockSize(fp8[0], fp8[1]);
            TensorCheck.check(arch, ck, norm.skipVision());
            return new Model(dir, arch, ropes, ck, json);
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    /** One rotary table, its errors (a rope type without its factor, an odd rotary dimension) naming config.json. */
    private static Rope rope(Architecture arch, org.depthlens.model.family.RopeSpec spec) {
        try {
            return new Rope(spec);
        } catch (BadInputException e) {
            String in = Families.of(arch.family()).blocksConfig(); // gemma3: the rope is text_config's
            throw new BadInputException(arch.configFile() + ": " + (in == null ? "" : "in " + in + ", ") + e.getMessage());
        }
    }

    /** The Curse-of-Depth code writes PyTorch .bin files and a 4.28-era {@code LLaMAForCausalLM} config. */
    private static boolean fromTrainingCode(JsonNode config, Checkpoint ck) {
        return "LLaMAForCausalLM".equals(config.path("architectures").path(0).asText(null))
                || ck.tensors().values().stream().anyMatch(t -> t.file().getFileName().toString().endsWith(".bin"));
    }

    public Path dir() {
        return dir;
    }

    public Architecture arch() {
        return arch;
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** A copy of the config.json this model was described from. */
    public JsonNode config() {
        return config.deepCopy();
    }

    /** x[0]: embedding rows of the flat token ids (sequence-major), [N, H], times the model's embedding scale (Gemma). */
    public INDArray embed(int[] ids) {
        int h = arch.hidden();
        for (int id : ids) {
            if (id < 0 || id >= arch.vocab()) {
                throw new BadInputException("token id " + id + " is outside the vocabulary of " + dir + " (size " + arch.vocab() + ")");
            }
        }
        INDArray out = Nd4j.create(DataType.FLOAT, ids.length, h);
        String name = arch.names().embedding();
        if ((long) arch.vocab() * h * 4 <= CACHED_EMBEDDING_BYTES) {
            if (embedding == null) embedding = checkpoint.load(name);
            for (int r = 0; r < ids.length; r++) out.putRow(r, embedding.getRow(ids[r]));
        } else {
            INDArray row = Nd4j.create(DataType.FLOAT, new long[] {1, h}, 'c');
            for (int r = 0; r < ids.length; r++) {
                checkpoint.loadRows(name, ids[r], 1, row);
                out.get(NDArrayIndex.point(r), NDArrayIndex.all()).assign(row.reshape(h));
            }
        }
        // Gemma multiplies by sqrt(hidden) rounded to the activation dtype, here float32
        if (arch.numerics().embedScale() != 1.0) out.muli((float) arch.numerics().embedScale());
        return out;
    }

    /** Loads block j's weights into the pool's reused buffers. */
    public BlockWeights loadBlock(int j, WeightPool pool) {
        return BlockWeights.load(arch, j, pool);
    }

    public WeightPool newPool() {
        return new WeightPool(checkpoint);
    }

    /** The cos/sin tables of every rotary table of the model for sequences of {@code seqLen}. */
    public RopeTables ropeTables(int seqLen) {
        return RopeTables.of(ropes, seqLen);
    }

    public Head head() {
        if (head == null) head = new Head(arch, checkpoint);
        return head;
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
