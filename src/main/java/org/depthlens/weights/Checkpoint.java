package org.depthlens.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The weights of one HF model directory: safetensors, single-file or sharded through
 * {@code model.safetensors.index.json}, or else PyTorch {@code pytorch_model.bin}, single-file or
 * sharded through {@code pytorch_model.bin.index.json} (safetensors win when a folder holds both,
 * as in transformers). Tensors are decoded to float32 on demand, into a new
 * array or into a caller's reused buffer; FP8 weights with a {@code weight_scale_inv} companion
 * are dequantized with their block scales (block size from the config, see {@link #setFp8BlockSize}).
 *
 * <p>All element arithmetic is in longs: tensors of more than 2^31 elements load into arrays
 * of that size (the destination is written in windows of at most 1 GiB).
 */
public final class Checkpoint implements AutoCloseable {
    public static final String INDEX = "model.safetensors.index.json";
    public static final String BIN = "pytorch_model.bin";
    public static final String BIN_INDEX = "pytorch_model.bin.index.json";
    /** Default FP8 block size (DeepSeek-V3's {@code weight_block_size}). */
    public static final int DEFAULT_FP8_BLOCK = 128;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path dir;
    private final List<WeightsFile> files;
    private final Map<String, TensorInfo> tensors;
    private final Map<Path, WeightsFile> byPath;
    /** PyTorch files in the folder that were not read because safetensors were there too. */
    private final List<String> shadowed;
    /** FP8 block size (quantization_config.weight_block_size), 128x128 in DeepSeek-V3. */
    private volatile int[] fp8Block = {DEFAULT_FP8_BLOCK, DEFAULT_FP8_BLOCK};
    /** Told about NaN/infinity in every float32 window decoded by the load methods; null: no check. */
    private volatile NonFiniteHandler nonFinite;

    /**
     * Told when a tensor decoded by {@link #load}, {@link #loadInto} or {@link #loadRows} holds NaN or
     * infinite values. {@code message} is one line naming the file, the tensor, the count and the first
     * position. Throw to stop the caller; return to go on with the values as they are.
     */
    @FunctionalInterface
    public interface NonFiniteHandler {
        void found(TensorInfo tensor, long count, String message);
    }

    private Checkpoint(Path dir, List<WeightsFile> files, Map<String, TensorInfo> tensors, List<String> shadowed) {
        this.dir = dir;
        this.files = files;
        this.tensors = tensors;
        this.shadowed = shadowed;
        this.byPath = new LinkedHashMap<>();
        for (WeightsFile f : files) byPath.put(f.path(), f);
    }

    /**
     * Opens every shard of {@code modelDir} (or the single file, if {@code modelDir} is a
     * {@code .safetensors} or {@code .bin} file); duplicates across shards and shard names that leave
     * the directory are refused. Safetensors are read when present (as transformers does); otherwise
     * {@code pytorch_model.bin.index.json} and its shards, or {@code pytorch_model.bin}.
     */
    public static Checkpoint open(Path modelDir) {
        Path dir = modelDir.toAbsolutePath().normalize();
        List<Path> paths;
        JsonNode weightMap = null;
        Path index = null;
        List<String> shadowed = List.of();
        String file = Files.isRegularFile(dir) ? dir.getFileName().toString() : "";
        if (file.endsWith(".safetensors") || file.endsWith(".bin")) {
            paths = List.of(dir);
            dir = dir.getParent();
        } else {
            if (!Files.isDirectory(dir)) throw new SafetensorsException(Msg.f(modelDir) + ": model directory not found");
            Path stIndex = dir.resolve(INDEX);
            Path binIndex = dir.resolve(BIN_INDEX);
            List<Path> st = Files.isRegularFile(stIndex) ? List.of() : listSafetensors(dir);
            if (Files.isRegularFile(stIndex) || !st.isEmpty()) {
                Path folder = dir;
                shadowed = Stream.of(BIN_INDEX, BIN).filter(n -> Files.isRegularFile(folder.resolve(n))).toList();
                if (st.isEmpty()) index = stIndex;
                else paths = st;
            } else if (Files.isRegularFile(binIndex)) {
                index = binIndex;
            } else if (Files.exists(dir.resolve(BIN))) {
                st = List.of(dir.resolve(BIN));
            } else if (hasBinShards(dir)) {
                throw new SafetensorsException(Msg.f(dir) + ": pytorch_model-*.bin shards without " + BIN_INDEX
                        + ", which says which tensor each shard holds (transformers needs it too)");
            } else {
                throw new SafetensorsException(Msg.f(dir) + ": no *.safetensors or " + BIN + " weights (and no " + INDEX + " or "
                        + BIN_INDEX + ")");
            }
            if (index != null) {
                weightMap = readIndex(index);
                paths = shardPaths(dir, index, weightMap);
            } else {
                paths = st;
            }
        }
        List<WeightsFile> opened = new ArrayList<>();
        try {
            Map<String, TensorInfo> all = new TreeMap<>();
            for (Path p : paths) {
                WeightsFile f = p.getFileName().toString().endsWith(".safetensors") ? SafetensorsFile.open(p) : TorchFile.open(p);
                opened.add(f);
                for (TensorInfo t : f.tensors().values()) {
                    TensorInfo prev = all.put(t.name(), t);
                    if (prev != null) {
                        throw new SafetensorsException(Msg.f(dir) + ": tensor " + Msg.q(t.name()) + " appears in both "
                                + Msg.f(prev.file().getFileName()) + " and " + Msg.f(p.getFileName()));
                    }
                }
            }
            if (weightMap != null) checkIndexMatches(index, weightMap, all);
            return new Checkpoint(dir, Collections.unmodifiableList(opened), Collections.unmodifiableMap(all), shadowed);
        } catch (RuntimeException | Error e) {
            opened.forEach(WeightsFile::close);
            throw e;
        }
    }

    /** The shards the index names, each a plain file name inside {@code dir} (never read outside it). */
    private static List<Path> shardPaths(Path dir, Path index, JsonNode weightMap) {
        List<Path> out = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (!v.isTextual()) {
                throw new SafetensorsException(Msg.f(index) + ": tensor " + Msg.q(e.getKey()) + " maps to " + Msg.clean(v.toString())
                        + ", not a shard file name");
            }
            String name = v.asText();
            if (!isPlainFileName(name)) {
                throw new SafetensorsException(Msg.f(index) + ": shard name " + Msg.q(name) + " (for tensor " + Msg.q(e.getKey())
                        + ") is not a plain file name in the model directory");
            }
            Path p = dir.resolve(name).normalize();
            if (!dir.equals(p.getParent())) {
                throw new SafetensorsException(Msg.f(index) + ": shard name " + Msg.q(name) + " leaves the model directory");
            }
            if (!out.contains(p)) out.add(p);
        }
        if (out.isEmpty()) throw new SafetensorsException(Msg.f(index) + ": weight_map is empty");
        for (Path p : out) {
            if (Files.exists(p) && !Files.isRegularFile(p)) {
                throw new SafetensorsException(Msg.f(index) + ": names shard " + Msg.q(p.getFileName().toString())
                        + ", which is " + (Files.isDirectory(p) ? "a folder" : "not a regular file (a FIFO, device or socket)") + ", not a weights file");
            }
            if (!Files.isRegularFile(p)) {
                throw new SafetensorsException(Msg.f(index) + ": names shard " + Msg.q(p.getFileName().toString()) + ", which is missing");
            }
        }
        out.sort(null);
        return out;
    }

    /** No directory part, no "..", no NUL, not absolute: a name that resolves inside the directory. */
    static boolean isPlainFileName(String name) {
        return !name.isEmpty() && !name.equals(".") && !name.contains("..") && name.indexOf('/') < 0
                && name.indexOf('\\') < 0 && name.indexOf('\0') < 0 && !name.startsWith("~");
    }

    private static boolean hasBinShards(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> {
                String n = p.getFileName().toString();
                return n.startsWith("pytorch_model-") && n.endsWith(".bin");
            });
        } catch (IOException e) {
            return false;
        }
    }

    /** The folder's {@code *.safetensors} files (without an index), sorted; may be empty. */
    private static List<Path> listSafetensors(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                // not only regular files: a FIFO or folder under a weights name is refused by name when opened
                return n.endsWith(".safetensors") && !n.startsWith("consolidated") && !n.startsWith(".") && Files.exists(p);
            }).sorted().toList();
        } catch (IOException e) {
            throw new SafetensorsException(Msg.f(dir) + ": cannot list directory (" + Msg.clean(e.getMessage()) + ")");
        }
    }

    /** The index's weight_map object. */
    private static JsonNode readIndex(Path index) {
        JsonNode root;
        try {
            org.depthlens.util.InputFiles.requireRegular(index, "index");
            long size = Files.size(index);
            if (size > SafetensorsFile.MAX_HEADER_BYTES) {
                throw new SafetensorsException(Msg.f(index) + ": " + size + " bytes, over the 100 MB limit for an index");
            }
            root = JSON.readTree(Files.readAllBytes(index));
        } catch (JsonProcessingException e) {
            throw new SafetensorsException(Msg.f(index) + ": not valid JSON (" + Msg.clean(org.depthlens.JsonErrors.describe(e)) + ")");
        } catch (IOException e) {
            throw new SafetensorsException(Msg.f(index) + ": cannot read (" + Msg.clean(e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) throw new SafetensorsException(Msg.f(index) + ": not a JSON object");
        if (!root.path("weight_map").isObject()) throw new SafetensorsException(Msg.f(index) + ": no \"weight_map\" object");
        return root.get("weight_map");
    }

    /** Every tensor the index names must be in the shard it names. */
    private static void checkIndexMatches(Path index, JsonNode weightMap, Map<String, TensorInfo> all) {
        Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            TensorInfo t = all.get(e.getKey());
            String shard = e.getValue().asText();
            if (t == null) {
                throw new SafetensorsException(Msg.f(index) + ": tensor " + Msg.q(e.getKey()) + " is not in shard " + Msg.q(shard));
            }
            if (!t.file().getFileName().toString().equals(shard)) {
                throw new SafetensorsException(Msg.f(index) + ": tensor " + Msg.q(e.getKey()) + " is in "
                        + Msg.q(t.file().getFileName().toString()) + ", not " + Msg.q(shard));
            }
        }
    }

    /**
     * Checks every float32 buffer the load methods fill for NaN and infinity (after FP8 scaling) and
     * tells {@code handler} which tensor holds them; {@code null} turns the check off (the default).
     * The scan reads the freshly written buffer once, a small cost next to decoding it.
     */
    public void onNonFinite(NonFiniteHandler handler) {
        this.nonFinite = handler;
    }

    /** Sets the FP8 dequantization block size from the config's {@code weight_block_size} (default 128x128). */
    public void setFp8BlockSize(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new SafetensorsException(Msg.f(dir) + ": weight_block_size [" + rows + ", " + cols + "] must be positive");
        }
        this.fp8Block = new int[] {rows, cols};
    }

    /** The FP8 block size in use, {rows, cols}. */
    public int[] fp8BlockSize() {
        return fp8Block.clone();
    }

    public Path dir() {
        return dir;
    }

    /** The weight files read, in file-name order. */
    public List<WeightsFile> files() {
        return files;
    }

    /** "safetensors" or "pytorch": the format of the files read. */
    public String format() {
        return files.get(0).format();
    }

    /**
     * PyTorch files ({@code pytorch_model.bin}, its index) present in the folder but not read because
     * the folder also holds safetensors, which win; empty otherwise.
     */
    public List<String> shadowed() {
        return shadowed;
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
        if (t == null) {
            String where = files.size() == 1 ? Msg.f(files.get(0).path().getFileName()) : "any of the " + files.size() + " shards";
            throw new SafetensorsException(Msg.f(dir) + ": missing tensor " + Msg.q(name) + " (not in " + where + ")");
        }
        return t;
    }

    /** Like {@link #require} but also checks the shape the model description expects. */
    public TensorInfo require(String name, long... shape) {
        TensorInfo t = require(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new SafetensorsException(Msg.f(t.file()) + ": tensor " + Msg.q(name) + " has shape " + t.shapeString()
                    + " but the config implies " + Arrays.toString(shape));
        }
        return t;
    }

    /** Total bytes of all weight files. */
    public long totalBytes() {
        return files.stream().mapToLong(WeightsFile::fileSize).sum();
    }

    /** Bytes per chunk of a {@link #rawCopy}: the only buffer a copy holds. */
    private static final int COPY_CHUNK = 1 << 20;

    /**
     * Tensor {@code name} as it is stored (same dtype, same bytes; a strided .bin view gathered into c
     * order), for a writer: read in chunks of 1 MiB when written, so copying a checkpoint holds one chunk,
     * never a tensor, and never re-rounds (BF16 stays bit for bit, FP8 and its scales unchanged).
     */
    public SafetensorsWriter.Tensor rawCopy(String name) {
        TensorInfo t = require(name);
        WeightsFile f = byPath.get(t.file());
        int es = t.dtype().size();
        long[] shape = t.shape();
        return SafetensorsWriter.Tensor.streamed(t.dtype(), shape, sink -> {
            long n = t.numel();
            int step = Math.max(1, COPY_CHUNK / es);
            byte[] buf = new byte[(int) Math.min((long) step * es, Math.max(es, n * es))];
            for (long done = 0; done < n; done += step) {
                long m = Math.min(step, n - done);
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(buf, 0, (int) (m * es));
                f.readBytes(t, done, m, b);
                sink.bytes(buf, 0, (int) (m * es));
            }
        });
    }

    /** A new float32 c-order array with the tensor's shape (scalars become shape [1]). */
    public INDArray load(String name) {
        TensorInfo t = require(name);
        long[] shape = t.shape().length == 0 ? new long[] {1} : t.shape();
        checkFloat(t);
        INDArray out = t.numel() == 0 ? Nd4j.create(DataType.FLOAT, shape, 'c') : Nd4j.createUninitialized(DataType.FLOAT, shape, 'c');
        loadInto(name, out);
        return out;
    }

    /**
     * Decodes tensor {@code name} into {@code dst}, a float32 array with the same number of
     * elements whose elements are contiguous in c order (any shape; a view with an offset is
     * fine, e.g. rows of a larger buffer). Its memory is reused, nothing of tensor size is
     * allocated. FP8 weights with a scale companion are dequantized.
     *
     * @throws IllegalArgumentException if {@code dst} is not such an array
     */
    public void loadInto(String name, INDArray dst) {
        loadInto(name, dst, WeightsFile.MAX_STEP_ELEMS);
    }

    /** {@link #loadInto(String, INDArray)} with at most {@code step} elements per window (tests use small steps). */
    void loadInto(String name, INDArray dst, long step) {
        TensorInfo t = require(name);
        checkFloat(t);
        loadRange(t, 0, t.numel(), dst, step, "tensor " + Msg.q(name));
    }

    /**
     * Decodes rows {@code [row0, row0 + rows)} of a 2-D float tensor into {@code dst} (contiguous
     * float32, rows x cols elements): for embeddings and lm_head, which can be larger than a whole
     * block. FP8 rows with block scales are dequantized like {@link #loadInto}.
     */
    public void loadRows(String name, long row0, long rows, INDArray dst) {
        TensorInfo t = require(name);
        checkFloat(t);
        if (t.rank() != 2) throw new SafetensorsException(Msg.f(t.file()) + ": tensor " + Msg.q(name) + " is not 2-D but " + t.shapeString());
        long cols = t.shape()[1];
        if (row0 < 0 || rows < 0 || row0 > t.shape()[0] - rows) {
            throw new IllegalArgumentException("rows [" + row0 + ", " + row0 + "+" + rows + ") outside tensor " + Msg.q(name) + " " + t.shapeString());
        }
        loadRange(t, row0 * cols, rows * cols, dst, WeightsFile.MAX_STEP_ELEMS, "rows of tensor " + Msg.q(name));
    }

    /** Elements {@code [from, from + n)} of {@code t}, dequantized, into {@code dst} through native windows. */
    private void loadRange(TensorInfo t, long from, long n, INDArray dst, long step, String what) {
        if (n == 0 && dst.dataType() == DataType.FLOAT && dst.length() == 0) return;
        if (dst.dataType() != DataType.FLOAT || dst.length() != n || !isContiguousC(dst)) {
            throw new IllegalArgumentException("buffer for " + what + " must be a contiguous float32 c-order array of "
                    + n + " elements, got " + dst.dataType() + " " + Arrays.toString(dst.shape()) + " strides "
                    + Arrays.toString(dst.stride()) + " order " + dst.ordering());
        }
        NonFiniteHandler check = nonFinite;
        long bad = 0;
        long first = -1;
        float firstValue = 0;
        try {
            long address = NativeMemory.address(dst);
            Scale scale = scaleFor(t);
            WeightsFile f = byPath.get(t.file());
            long win = Math.max(1, Math.min(step, WeightsFile.MAX_STEP_ELEMS));
            for (long done = 0; done < n; done += win) {
                long m = Math.min(win, n - done);
                long at = address + done * 4L;
                f.readF32ToAddress(t, from + done, m, at, m);
                if (scale != null) scale.apply(NativeMemory.window(at, m * 4L).asFloatBuffer(), from + done, m);
                if (check != null) {
                    IntBuffer bits = NativeMemory.window(at, m * 4L).asIntBuffer();
                    int len = (int) m;
                    for (int i = 0; i < len; i++) {
                        // exponent all ones: NaN or +-infinity
                        if ((bits.get(i) & 0x7F800000) == 0x7F800000) {
                            if (bad++ == 0) {
                                first = from + done + i;
                                firstValue = Float.intBitsToFloat(bits.get(i));
                            }
                        }
                    }
                }
            }
        } finally {
            Reference.reachabilityFence(dst);
        }
        if (bad > 0) {
            String where = from == 0 && n == t.numel() ? "" : " in elements [" + from + ", " + (from + n) + ")";
            check.found(t, bad, nonFiniteMessage(t, bad, first, firstValue) + where);
        }
    }

    /** "FILE: tensor 'NAME' holds N non-finite values (first: NaN at element E = index [..])". */
    static String nonFiniteMessage(TensorInfo t, long bad, long first, float firstValue) {
        return Msg.f(t.file()) + ": tensor " + Msg.q(t.name()) + " holds " + bad + " non-finite value"
                + (bad == 1 ? "" : "s") + " (first: " + firstValue + " at element " + first + " = index "
                + Arrays.toString(unravel(first, t.shape())) + ")";
    }

    /**
     * Decodes elements {@code [from, from + count)} (c order) of a float tensor into {@code dst},
     * dequantized like {@link #load} (plain Java path).
     */
    public void read(String name, long from, long count, FloatBuffer dst) {
        TensorInfo t = require(name);
        checkFloat(t);
        Scale scale = scaleFor(t);
        int start = dst.position();
        byPath.get(t.file()).readF32(t, from, count, dst);
        if (scale != null) {
            FloatBuffer w = dst.duplicate();
            w.position(start);
            w.limit(start + (int) count);
            scale.apply(w.slice(), from, count);
        }
    }

    /** Number of NaN and infinite values in float tensor {@code name} (after FP8 dequantization); 0 for integer tensors. */
    public long countNonFinite(String name) {
        return scanNonFinite(name, false);
    }

    /**
     * Throws a {@link SafetensorsException} naming the tensor, the count and the first position
     * if float tensor {@code name} holds NaN or infinite values (after FP8 dequantization).
     */
    public void checkFinite(String name) {
        scanNonFinite(name, true);
    }

    private long scanNonFinite(String name, boolean throwOnFirst) {
        TensorInfo t = require(name);
        if (!t.dtype().isFloat()) return 0;
        long n = t.numel();
        int chunk = (int) Math.min(n, 1 << 20);
        FloatBuffer buf = FloatBuffer.allocate(Math.max(chunk, 1));
        long bad = 0;
        long first = -1;
        float firstValue = 0;
        for (long done = 0; done < n; done += chunk) {
            int m = (int) Math.min(chunk, n - done);
            buf.clear();
            read(name, done, m, buf);
            float[] a = buf.array();
            for (int i = 0; i < m; i++) {
                float v = a[i];
                if (Float.isNaN(v) || Float.isInfinite(v)) {
                    if (bad++ == 0) {
                        first = done + i;
                        firstValue = v;
                    }
                }
            }
        }
        if (throwOnFirst && bad > 0) throw new SafetensorsException(nonFiniteMessage(t, bad, first, firstValue));
        return bad;
    }

    private static long[] unravel(long flat, long[] shape) {
        long[] idx = new long[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 0) return idx;
            idx[i] = flat % shape[i];
            flat /= shape[i];
        }
        return idx;
    }

    private void checkFloat(TensorInfo t) {
        if (!t.dtype().isFloat()) {
            throw new SafetensorsException(Msg.f(t.file()) + ": tensor " + Msg.q(t.name()) + " has dtype " + t.dtype()
                    + ", expected a float type");
        }
    }

    /** True if the array's elements are contiguous in c order (dimensions of size 1 may have any stride). */
    static boolean isContiguousC(INDArray a) {
        long[] shape = a.shape();
        long[] stride = a.stride();
        long expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) continue;
            if (stride[i] != expect) return false;
            expect *= shape[i];
        }
        return a.data() != null && a.data().length() - (a.offset() - a.data().offset()) >= a.length();
    }

    /** FP8 block scales of one weight: W[r][c] = fp8(X[r][c]) * scale[r / br][c / bc]. */
    private record Scale(float[] values, long cols, long scaleCols, long br, long bc) {
        void apply(FloatBuffer w, long from, long count) {
            long r = from / cols;
            long c = from % cols;
            for (int i = 0; i < count; i++) {
                float s = values[(int) ((r / br) * scaleCols + c / bc)];
                w.put(i, w.get(i) * s);
                if (++c == cols) {
                    c = 0;
                    r++;
                }
            }
        }
    }

    /**
     * The scale companion of an FP8 weight, or null for other dtypes. An FP8 weight without {@code <name>_scale_inv}
     * is refused: other FP8 formats keep their scales under other names (e.g. per-tensor {@code weight_scale}), and
     * reading the raw codes would give silently wrong numbers.
     */
    private Scale scaleFor(TensorInfo t) {
        TensorInfo s = scaleInfo(t);
        if (s == null) return null;
        String scaleName = s.name();
        String where = Msg.f(s.file()) + ": tensor " + Msg.q(scaleName);
        if (s.numel() > Integer.MAX_VALUE - 8) throw new SafetensorsException(where + " is too large");
        float[] scale = new float[(int) s.numel()];
        byPath.get(s.file()).readF32(s, 0, s.numel(), FloatBuffer.wrap(scale));
        return new Scale(scale, t.shape()[1], s.shape()[1], fp8Block[0], fp8Block[1]);
    }

    /**
     * Checks from the headers alone that float tensor {@code name} can be decoded: a float dtype, and for
     * FP8 a block-scale companion of the right shape. Lets a model refuse a checkpoint before computing.
     */
    public void checkDecodable(String name) {
        TensorInfo t = require(name);
        checkFloat(t);
        scaleInfo(t);
    }

    /** The validated {@code weight_scale_inv} companion of an FP8 weight, or null for other dtypes. */
    private TensorInfo scaleInfo(TensorInfo t) {
        if (t.dtype() != DType.F8_E4M3 && t.dtype() != DType.F8_E5M2) return null;
        String scaleName = t.name() + "_scale_inv";
        TensorInfo s = tensors.get(scaleName);
        if (s == null) {
            throw new SafetensorsException(Msg.f(t.file()) + ": tensor " + Msg.q(t.name()) + " is " + t.dtype() + " without "
                    + Msg.q(scaleName) + " block scales; only DeepSeek-V3-style block-scaled FP8 is supported");
        }
        String where = Msg.f(s.file()) + ": tensor " + Msg.q(scaleName);
        if (t.rank() != 2 || s.rank() != 2) {
            throw new SafetensorsException(where + " has shape " + s.shapeString() + "; it must be 2-D next to a 2-D FP8 weight "
                    + Msg.q(t.name()) + " " + t.shapeString());
        }
        if (!s.dtype().isFloat()) throw new SafetensorsException(where + " has dtype " + s.dtype() + ", expected F32");
        int[] block = fp8Block;
        long rows = t.shape()[0], cols = t.shape()[1];
        long br = block[0], bc = block[1];
        if (ceilDiv(rows, br) != s.shape()[0] || ceilDiv(cols, bc) != s.shape()[1]) {
            throw new SafetensorsException(where + " has shape " + s.shapeString() + " but weight " + Msg.q(t.name()) + " "
                    + t.shapeString() + " in " + br + "x" + bc + " blocks needs [" + ceilDiv(rows, br) + ", " + ceilDiv(cols, bc) + "]");
        }
        return s;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    @Override
    public void close() {
        files.forEach(WeightsFile::close);
    }
}
