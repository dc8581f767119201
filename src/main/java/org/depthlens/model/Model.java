package org.depthlens.model;

import org.depthlens.BadInputException;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.ConfigParser;
import org.depthlens.weights.ModelConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Path;

/**
 * A checkpoint opened for execution: config, architecture description and memory-mapped weights.
 * Nothing but the final norm (and small embeddings) is held; blocks are loaded one at a time.
 */
public final class Model implements AutoCloseable {
    /** Embeddings up to this float32 size are kept in memory; larger ones are read row by row. */
    private static final long CACHED_EMBEDDING_BYTES = 256L << 20;

    private final Path dir;
    private final ModelConfig config;
    private final Architecture arch;
    private final Checkpoint checkpoint;
    private INDArray embedding;
    private Head head;

    private Model(Path dir, ModelConfig config, Architecture arch, Checkpoint checkpoint) {
        this.dir = dir;
        this.config = config;
        this.arch = arch;
        this.checkpoint = checkpoint;
    }

    public static Model open(Path dir, Architecture.LnsMode lns) {
        return open(dir, NormChoice.of(lns));
    }

    /**
     * Opens {@code dir} with the block normalisation {@code norm} asks for (or finds); what the files could not
     * tell and was assumed goes to stderr as one "depthlens: note:" line.
     */
    public static Model open(Path dir, NormChoice norm) {
        Blas.configure(); // no-op when Main (or an earlier open) already chose
        ModelConfig config = ConfigParser.read(dir);
        Checkpoint ck = Checkpoint.open(dir);
        try {
            NormForm form = norm.resolve(config, ck.tensors(), fromTrainingCode(config, ck));
            if (form.note() != null) System.err.println("depthlens: note: " + form.note());
            Architecture arch = Architecture.of(config, form);
            ck.setFp8BlockSize(config.fp8BlockSize()[0], config.fp8BlockSize()[1]);
            ck.require("model.embed_tokens.weight", arch.vocab(), arch.hidden());
            checkNoBlocksBeyondConfig(ck, config, arch);
            return new Model(dir, config, arch, ck);
        } catch (RuntimeException e) {
            ck.close();
            throw e;
        }
    }

    /** The Curse-of-Depth code writes PyTorch .bin files and a 4.28-era {@code LLaMAForCausalLM} config. */
    private static boolean fromTrainingCode(ModelConfig c, Checkpoint ck) {
        return "LLaMAForCausalLM".equals(c.architecture())
                || ck.tensors().values().stream().anyMatch(t -> t.file().getFileName().toString().endsWith(".bin"));
    }

    /**
     * Tensors of blocks the config does not have mean the config and weights disagree (a truncated
     * config would silently analyse a shorter model). DeepSeek-V3's multi-token-prediction block,
     * stored as block L, is the one exception.
     */
    private static void checkNoBlocksBeyondConfig(Checkpoint ck, ModelConfig config, Architecture arch) {
        int allowed = arch.layers() + (arch.family().equals("deepseek_v3") ? 1 : 0);
        int max = -1;
        String example = null;
        for (String name : ck.tensors().keySet()) {
            if (!name.startsWith("model.layers.")) continue;
            int dot = name.indexOf('.', "model.layers.".length());
            if (dot < 0) continue;
            try {
                int block = Integer.parseInt(name.substring("model.layers.".length(), dot));
                if (block >= allowed && block > max) {
                    max = block;
                    example = name;
                }
            } catch (NumberFormatException ignored) {
                // not a block index
            }
        }
        if (example != null) {
            throw new BadInputException(config.file() + ": num_hidden_layers is " + arch.layers() + " but the weights hold block "
                    + max + " (tensor '" + example + "'); config.json and the weights disagree");
        }
    }

    public Path dir() {
        return dir;
    }

    public ModelConfig config() {
        return config;
    }

    public Architecture arch() {
        return arch;
    }

    public Checkpoint checkpoint() {
        return checkpoint;
    }

    /** x[0]: embedding rows of the flat token ids (sequence-major), [N, H]. */
    public INDArray embed(int[] ids) {
        int h = arch.hidden();
        for (int id : ids) {
            if (id < 0 || id >= arch.vocab()) {
                throw new BadInputException("token id " + id + " is outside the vocabulary of " + dir + " (size " + arch.vocab() + ")");
            }
        }
        INDArray out = Nd4j.create(DataType.FLOAT, ids.length, h);
        String name = "model.embed_tokens.weight";
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
        return out;
    }

    /** Loads block j's weights into the pool's reused buffers. */
    public BlockWeights loadBlock(int j, WeightPool pool) {
        return BlockWeights.load(arch, arch.blocks().get(j), pool);
    }

    public WeightPool newPool() {
        return new WeightPool(checkpoint);
    }

    public Rope.Tables ropeTables(int seqLen) {
        return arch.rope().tables(seqLen);
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
