package org.depthlens.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The safetensors weights of one HF model directory, single-file or sharded through
 * {@code model.safetensors.index.json}. Tensors are decoded to float32 on demand, into a new
 * array or into a caller's reused buffer; FP8 weights with a {@code weight_scale_inv} companion
 * are dequantized with their 128x128 block scales.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String INDEX = "model.safetensors.index.json";

    private final Path dir;
    private final List<SafetensorsFile> files;
    private final Map<String, TensorInfo> tensors;
    private final Map<Path, SafetensorsFile> byPath;
    /** FP8 block size (quantization_config.weight_block_size), 128x128 in DeepSeek-V3. */
    private volatile int[] fp8Block = {128, 128};

    private Checkpoint(Path dir, List<SafetensorsFile> files, Map<String, TensorInfo> tensors) {
        this.dir = dir;
        this.files = files;
        this.tensors = tensors;
        this.byPath = new LinkedHashMap<>();
        for (SafetensorsFile f : files) byPath.put(f.path(), f);
    }

    /** Opens every shard of {@code modelDir}; duplicates across shards and escaping shard names are refused. */
    public static Checkpoint open(Path modelDir) {
        Path dir = modelDir.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) throw new SafetensorsException(modelDir + ": model directory not found");
        List<Path> paths = shardPaths(dir);
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, TensorInfo> all = new TreeMap<>();
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                opened.add(f);
                for (TensorInfo t : f.tensors().values()) {
                    TensorInfo prev = all.put(t.name(), t);
                    if (prev != null) {
                        throw new SafetensorsException(dir + ": tensor '" + t.name() + "' appears in both "
                                + prev.file().getFileName() + " and " + p.getFileName());
                    }
                }
            }
            checkIndexMatches(dir, all);
            return new Checkpoint(dir, Collections.unmodifiableList(opened), Collections.unmodifiableMap(all));
        } catch (RuntimeException e) {
            opened.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static List<Path> shardPaths(Path dir) {
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            JsonNode map = readIndex(index).get("weight_map");
            List<Path> out = new ArrayList<>();
            for (JsonNode v : iterable(map)) {
                String name = v.asText();
                Path p = dir.resolve(name).normalize();
                if (!v.isTextual() || name.isEmpty() || Path.of(name).isAbsolute() || name.contains("..")
                        || !p.getParent().equals(dir)) {
                    throw new SafetensorsException(index + ": shard name '" + name + "' is not a plain file name in the model directory");
                }
                if (!out.contains(p)) out.add(p);
            }
            for (Path p : out) {
                if (!Files.isRegularFile(p)) throw new SafetensorsException(index + ": names shard " + p.getFileName() + ", which is missing");
            }
            out.sort(null);
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".safetensors") && !n.startsWith("consolidated") && Files.isRegularFile(p);
            }).sorted().toList();
            if (out.isEmpty()) throw new SafetensorsException(dir + ": no *.safetensors weights (and no " + INDEX + ")");
            return out;
        } catch (IOException e) {
            throw new SafetensorsException(dir + ": cannot list directory (" + e.getMessage() + ")");
        }
    }

    private static JsonNode readIndex(Path index) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new SafetensorsException(index + ": not valid JSON (" + e.getMessage().split("\n")[0] + ")");
        }
        if (root == null || !root.isObject() || !root.path("weight_map").isObject()) {
            throw new SafetensorsException(index + ": no \"weight_map\" object");
        }
        return root;
    }

    private static Iterable<JsonNode> iterable(JsonNode obj) {
        return obj::elements;
    }

    /** Every tensor the index names must be in the shard it names. */
    private static void checkIndexMatches(Path dir, Map<String, TensorInfo> all) {
        Path index = dir.resolve(INDEX);
        if (!Files.isRegularFile(index)) return;
        Iterator<Map.Entry<String, JsonNode>> it = readIndex(index).get("weight_map").fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            TensorInfo t = all.get(e.getKey());
            if (t == null) {
                throw new SafetensorsException(index + ": tensor '" + e.getKey() + "' is not in shard " + e.getValue().asText());
            }
            if (!t.file().getFileName().toString().equals(e.getValue().asText())) {
                throw new SafetensorsException(index + ": tensor '" + e.getKey() + "' is in " + t.file().getFileName()
                        + ", not " + e.getValue().asText());
            }
        }
    }

    /** Sets the FP8 dequantization block size from the config's {@code weight_block_size}. */
    public void setFp8BlockSize(int rows, int cols) {
        if (rows <= 0 || cols <= 0) throw new SafetensorsException(dir + ": weight_block_size must be positive");
        this.fp8Block = new int[] {rows, cols};
    }

    public Path dir() {
        return dir;
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    /** All tensors by name, sorted. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    public TensorInfo require(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new SafetensorsException(dir + ": missing tensor '" + name + "'");
        return t;
    }

    /** Like {@link #require} but also checks the shape the model description expects. */
    public TensorInfo require(String name, long... shape) {
        TensorInfo t = require(name);
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new SafetensorsException(t.file() + ": tensor '" + name + "' has shape " + t.shapeString()
                    + " but the config implies " + java.util.Arrays.toString(shape));
        }
        return t;
    }

    /** Total bytes of all weight files. */
    public long totalBytes() {
        return files.stream().mapToLong(SafetensorsFile::fileSize).sum();
    }

    /** A new float32 c-order array with the tensor's shape (scalars become shape [1]). */
    public INDArray load(String name) {
        TensorInfo t = require(name);
        long[] shape = t.shape().length == 0 ? new long[] {1} : t.shape();
        INDArray out = Nd4j.create(DataType.FLOAT, shape, 'c');
        loadInto(name, out);
        return out;
    }

    /**
     * Decodes tensor {@code name} into {@code dst}, a float32 c-order contiguous array with the same
     * number of elements (its memory is reused, nothing is allocated).
     */
    public void loadInto(String name, INDArray dst) {
        TensorInfo t = require(name);
        if (dst.dataType() != DataType.FLOAT || dst.length() != t.numel() || !isContiguousC(dst)) {
            throw new IllegalArgumentException("buffer for " + name + " must be a contiguous float32 c-order array of "
                    + t.numel() + " elements, got " + dst.shapeInfoToString());
        }
        FloatBuffer fb = dst.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        fb.position((int) dst.offset());
        byPath.get(t.file()).readF32(t, 0, t.numel(), fb);
        dequantizeIfScaled(t, dst);
    }

    /**
     * Decodes rows {@code [row0, row0 + rows)} of a 2-D float tensor into {@code dst} (contiguous float32,
     * rows x cols elements): for embeddings and lm_head, which can be larger than a whole block.
     */
    public void loadRows(String name, long row0, long rows, INDArray dst) {
        TensorInfo t = require(name);
        if (t.rank() != 2) throw new SafetensorsException(t.file() + ": tensor '" + name + "' is not 2-D");
        long cols = t.shape()[1];
        if (row0 < 0 || rows < 0 || row0 + rows > t.shape()[0]) {
            throw new IllegalArgumentException("rows [" + row0 + ", " + (row0 + rows) + ") outside " + name + " " + t.shapeString());
        }
        if (dst.dataType() != DataType.FLOAT || dst.length() != rows * cols || !isContiguousC(dst)) {
            throw new IllegalArgumentException("buffer for rows of " + name + " must be contiguous float32 of " + rows * cols + " elements");
        }
        if (tensors.containsKey(name + "_scale_inv")) {
            throw new SafetensorsException(t.file() + ": row reads of block-quantized tensor '" + name + "' are not supported");
        }
        FloatBuffer fb = dst.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        fb.position((int) dst.offset());
        byPath.get(t.file()).readF32(t, row0 * cols, rows * cols, fb);
    }

    private static boolean isContiguousC(INDArray a) {
        return a.ordering() == 'c' && a.elementWiseStride() == 1 && a.data().length() >= a.offset() + a.length();
    }

    /** FP8 weight with a {@code <name>_scale_inv} companion: W[r][c] *= scale[r/B][c/B]. */
    private void dequantizeIfScaled(TensorInfo t, INDArray dst) {
        if (t.dtype() != DType.F8_E4M3 && t.dtype() != DType.F8_E5M2) return;
        String scaleName = t.name() + "_scale_inv";
        TensorInfo s = tensors.get(scaleName);
        if (s == null) return;
        if (t.rank() != 2 || s.rank() != 2) {
            throw new SafetensorsException(s.file() + ": tensor '" + scaleName + "' must be 2-D next to a 2-D FP8 weight");
        }
        long rows = t.shape()[0], cols = t.shape()[1];
        long sr = s.shape()[0], sc = s.shape()[1];
        long br = fp8Block[0], bc = fp8Block[1];
        if (ceilDiv(rows, br) != sr || ceilDiv(cols, bc) != sc) {
            throw new SafetensorsException(s.file() + ": tensor '" + scaleName + "' shape " + s.shapeString()
                    + " does not tile weight " + t.shapeString());
        }
        float[] scale = new float[(int) s.numel()];
        byPath.get(s.file()).readF32(s, 0, s.numel(), FloatBuffer.wrap(scale));
        FloatBuffer w = dst.data().asNio().order(ByteOrder.nativeOrder()).asFloatBuffer();
        int base = (int) dst.offset();
        for (long r = 0; r < rows; r++) {
            int rowOff = (int) (base + r * cols);
            int srow = (int) (r / br * sc);
            for (long c = 0; c < cols; c++) {
                int i = (int) (rowOff + c);
                w.put(i, w.get(i) * scale[(int) (srow + c / bc)]);
            }
        }
    }

    private static long ceilDiv(long a, long b) {
        return b <= 0 ? 0 : (a + b - 1) / b;
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
