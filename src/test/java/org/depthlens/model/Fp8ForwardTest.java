package org.depthlens.model;

import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.MlpSpec;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.Fixtures;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.DType;
import org.depthlens.weights.FloatDecoder;
import org.depthlens.weights.SafetensorsException;
import org.depthlens.weights.SafetensorsFile;
import org.depthlens.weights.SafetensorsWriter;
import org.depthlens.weights.SafetensorsWriter.Tensor;
import org.depthlens.weights.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

import static org.depthlens.model.ForwardParityTest.flat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DeepSeek-V3's FP8 checkpoint format through a real forward pass (MLA with q LoRA, grouped sigmoid
 * MoE, shared experts). The test quantises HF's tiny deepseek_v3 fixture itself, the way DeepSeek's
 * released checkpoints are stored: every 2-D linear weight inside the decoder layers as F8_E4M3 plus a
 * F32 {@code <name>_scale_inv} grid of [ceil(rows/b0), ceil(cols/b1)] block scales, everything else
 * (embeddings, norms, router, correction bias, lm_head) untouched. It also writes the "dequantised
 * reference": the same model with those weights as F32 {@code float32(e4m3) * scale_inv}, computed here
 * exactly as HF's dequantisation does ({@code weight.to(float32) * scale_inv}).
 *
 * <p>The FP8 model must then run bit for bit like the F32 one (so the loader decodes exactly what the
 * scale convention says: dtype, scale lookup, block mapping with partial edge blocks, block size from
 * quantization_config), stay close to HF's own BF16 activations, and a wrong block size in the config
 * must change the numbers (or be refused), which shows the comparison can fail.
 *
 * <p>The E4M3 encoder and decoder here are written from the format's definition, independent of
 * {@link FloatDecoder}; {@link #e4m3CodecFollowsTheFormat} checks them (and cross-checks the decoders).
 */
class Fp8ForwardTest {
    static final String FIXTURE = "deepseek_v3";
    static final float E4M3_MAX = 448f;

    /** What DeepSeek-V3 stores in FP8: the linear layers of attention, dense MLP, routed and shared experts. */
    static final Pattern QUANTISED = Pattern.compile("model\\.layers\\.\\d+\\.(self_attn\\.(q_proj|q_a_proj|q_b_proj|kv_a_proj_with_mqa"
            + "|kv_b_proj|o_proj)|mlp\\.((experts\\.\\d+|shared_experts)\\.)?(gate_proj|up_proj|down_proj))\\.weight");
    /** What stays in its original dtype: embeddings, norms, the router and its bias, lm_head. */
    static final Pattern KEPT = Pattern.compile("model\\.embed_tokens\\.weight|lm_head\\.weight|model\\.norm\\.weight"
            + "|model\\.layers\\.\\d+\\.(input_layernorm|post_attention_layernorm|self_attn\\.q_a_layernorm|self_attn\\.kv_a_layernorm"
            + "|mlp\\.gate)\\.weight|model\\.layers\\.\\d+\\.mlp\\.gate\\.e_score_correction_bias");

    @TempDir
    Path tmp;

    // ---------------------------------------------------------------------------------------------
    // The tests

    /**
     * Block sizes that divide none (10 x 24) or almost none (50 x 52) of the fixture's dimensions
     * (24, 64, 96, 128, 160 rows; 16, 32, 64, 160 columns), so most weights end in partial blocks
     * on both axes; 50 x 52 gives grids of one to four blocks, 10 x 24 up to 16 x 7.
     */
    @ParameterizedTest(name = "block {0}x{1}")
    @CsvSource({"10, 24", "50, 52"})
    void fp8ForwardIsBitwiseTheDequantisedF32Forward(int b0, int b1) {
        int[] block = {b0, b1};
        Derived d = derive("fp8", block, block);
        Path ref = writeDequantisedReference("f32", d);

        // the weights themselves first: a precise diagnostic if the forward comparison fails
        try (Checkpoint fp8 = Checkpoint.open(d.dir); Checkpoint f32 = Checkpoint.open(ref)) {
            fp8.setFp8BlockSize(b0, b1); // what Model.open does from quantization_config
            for (String name : d.quantised.keySet()) {
                assertEquals(DType.F8_E4M3, fp8.require(name).dtype(), name);
                assertEquals(DType.F32, fp8.require(name + "_scale_inv").dtype(), name);
                assertEquals(DType.F32, f32.require(name).dtype(), name);
                assertBitwise(name, flat(f32.load(name)), flat(fp8.load(name)));
            }
        }

        Map<Integer, long[]> usage = new TreeMap<>();
        Map<String, float[]> a = ForwardParityTest.forward(d.dir, FIXTURE, usage);
        Map<String, float[]> b = ForwardParityTest.forward(ref, FIXTURE, new TreeMap<>());
        assertEquals(b.keySet(), a.keySet());
        for (String k : b.keySet()) assertBitwise(k, b.get(k), a.get(k));
        System.out.printf("FP8 deepseek_v3, block %dx%d: %d weights in F8_E4M3 (%d partial blocks of %d); all %d activations"
                        + " (resid.*, attn_out.*, mlp_out.*, logits) bitwise equal to the F32 dequantised reference%n",
                b0, b1, d.quantised.size(), d.partialBlocks, d.blocks, a.size());

        assertCloseToHuggingFace(d, a, usage, b0 + "x" + b1);
    }

    /**
     * The quantised model is still the model: close to HF's BF16 activations, and measurably not equal to them.
     *
     * <p>Tolerance. With scale = max|w| / 448 a block's largest weight lands on 448, where E4M3's step is 32,
     * so no weight moves by more than 16/448 = 1/28 = 3.6e-2 of its block's max (measured: exactly that).
     * Each block applies eight quantised matrices in sequence (q_a, q_b, kv_a, kv_b, o, gate/up, down); the
     * tolerance is 8 x the measured weight error (2.9e-1), relative to each tensor's max as in
     * ForwardParityTest. A wrong scale or block mapping is an error of order 1 (see the negative control).
     *
     * <p>Routing. A perturbation of this size can flip a near-tied top-k or group choice of the sigmoid router
     * for a token; that token's MoE output is then a different mixture of experts, off by O(1). So for the MoE
     * outputs the tolerance holds for every token whose experts (recomputed from the stream with the model's
     * own router, for both runs) are unchanged, and a token beyond it must be one whose experts changed.
     * Everything else (all residual states, attention outputs, logits) must be within the tolerance.
     */
    void assertCloseToHuggingFace(Derived d, Map<String, float[]> a, Map<Integer, long[]> usage, String label) {
        double weightErr = d.worstWeightError;
        assertTrue(weightErr <= 16.0 / 448 * (1 + 1e-5), "weight quantisation error " + weightErr + " over E4M3's 1/28 (+ float32 rounding of the scale)");
        double tol = 8 * weightErr;
        Map<String, float[]> hf = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(Fixtures.hf(FIXTURE).resolve("reference.safetensors"))) {
            for (String k : a.keySet()) hf.put(k, Fixtures.readFloats(f, k));
        }
        double worst = 0, worstMoeUnflipped = 0;
        String worstName = null;
        StringBuilder per = new StringBuilder(), flips = new StringBuilder();
        List<String> failures = new java.util.ArrayList<>();
        try (Model m = Model.open(d.dir, Architecture.LnsMode.AUTO)) {
            int hidden = m.arch().hidden();
            for (Map.Entry<String, float[]> e : a.entrySet()) {
                String k = e.getKey();
                float[] got = e.getValue(), want = hf.get(k);
                double err = Fixtures.relMaxError(got, want);
                per.append(String.format(" %s=%.2e", k, err));
                if (err > worst) {
                    worst = err;
                    worstName = k;
                }
                if (err <= tol) continue;
                int j = k.startsWith("mlp_out.") ? Integer.parseInt(k.substring("mlp_out.".length())) : -1;
                if (j < 0 || !(m.arch().blocks().get(j).mlp() instanceof MlpSpec.Moe)) {
                    failures.add(String.format("%s=%.3e", k, err));
                    continue;
                }
                List<Set<Integer>> mine = routing(m, j, a.get("resid." + j), a.get("attn_out." + j));
                long[] counts = new long[usage.get(j).length];
                for (Set<Integer> chosen : mine) for (int x : chosen) counts[x]++;
                assertArrayEquals(usage.get(j), counts, "block " + j + ": the recomputed routing is not the one the forward used");
                List<Set<Integer>> theirs = routing(m, j, hf.get("resid." + j), hf.get("attn_out." + j));
                double max = 0;
                for (float v : want) max = Math.max(max, Math.abs(v));
                int flipped = 0;
                for (int t = 0; t < mine.size(); t++) {
                    double diff = 0;
                    for (int c = 0; c < hidden; c++) diff = Math.max(diff, Math.abs((double) got[t * hidden + c] - want[t * hidden + c]));
                    boolean changed = !mine.get(t).equals(theirs.get(t));
                    if (changed) {
                        flipped++;
                        flips.append(String.format(" block %d token %d experts %s -> %s (mlp_out off by %.2e);", j, t, theirs.get(t),
                                mine.get(t), diff / max));
                    } else {
                        worstMoeUnflipped = Math.max(worstMoeUnflipped, diff / max);
                        if (diff / max > tol) failures.add(String.format("%s token %d (experts unchanged)=%.3e", k, t, diff / max));
                    }
                }
                assertTrue(flipped > 0 || !failures.isEmpty(), k + " is off by " + err + " but no token's experts changed");
            }
        }
        System.out.printf("FP8 deepseek_v3, block %s vs HF BF16 reference: weight quantisation error max|w8-w|/max|w| per block"
                        + " %.4e (1/28 = %.4e); activations worst %.3e (%s), tolerance %.3f;%s%n  routing changed by quantisation:%s"
                        + " worst MoE output of the other tokens %.3e%n",
                label, weightErr, 1.0 / 28, worst, worstName, tol, per, flips.length() == 0 ? " none;" : flips, worstMoeUnflipped);
        assertTrue(failures.isEmpty(), "FP8 model is further than " + tol + " from HF's BF16 reference: " + failures + "; all:" + per);
        assertTrue(worst > 1e-3, "FP8 model equals the BF16 reference to " + worst + ": were the weights quantised at all?");
    }

    /** The experts block j's router picks for each token of stream state resid.j + attn_out.j (as BlockForward computes them). */
    static List<Set<Integer>> routing(Model m, int j, float[] resid, float[] attn) {
        MlpSpec.Moe moe = (MlpSpec.Moe) m.arch().blocks().get(j).mlp();
        int h = m.arch().hidden(), n = resid.length / h;
        String p = "model.layers." + j + ".";
        float[] norm = flat(m.checkpoint().load(p + "post_attention_layernorm.weight"));
        float[] normed = new float[n * h], row = new float[h];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < h; c++) row[c] = resid[t * h + c] + attn[t * h + c];
            Ops.rmsNormRow(row, 0, normed, t * h, norm, m.arch().eps(), 1.0, h);
        }
        INDArray x = org.nd4j.linalg.factory.Nd4j.create(normed, new long[] {n, h}, 'c');
        float[] logits = flat(Ops.linear(x, m.checkpoint().load(p + "mlp.gate.weight"), null));
        float[] bias = moe.correctionBias() ? flat(m.checkpoint().load(p + "mlp.gate.e_score_correction_bias")) : null;
        Moe.Routing r = Moe.route(moe, logits, bias, n);
        List<Set<Integer>> out = new java.util.ArrayList<>();
        for (int t = 0; t < n; t++) {
            Set<Integer> s = new java.util.TreeSet<>();
            for (int i = 0; i < moe.topK(); i++) s.add(r.experts()[t * moe.topK() + i]);
            out.add(s);
        }
        return out;
    }

    /**
     * Negative control. The scales are computed for 50 x 52 blocks but config.json says 52 x 50: every
     * grid has the same shape either way (so the loader cannot notice), yet rows and columns 50, 51,
     * 100, 101, 150, 151 take their neighbour block's scale, and the forward must differ from the
     * dequantised reference. With 10 x 24 blocks, 24 x 10 needs other grid shapes and must be refused
     * with a one-line error naming the scale tensor.
     */
    @Test
    void wrongBlockSizeInConfigIsDetected() {
        int[] block = {50, 52};
        Derived right = derive("fp8", block, block);
        Path ref = writeDequantisedReference("f32", right);
        Derived swapped = derive("fp8-swapped", block, new int[] {52, 50});
        Map<String, float[]> a = ForwardParityTest.forward(swapped.dir, FIXTURE, new TreeMap<>());
        Map<String, float[]> b = ForwardParityTest.forward(ref, FIXTURE, new TreeMap<>());
        double worst = 0;
        long differing = 0;
        for (String k : b.keySet()) {
            worst = Math.max(worst, Fixtures.relMaxError(a.get(k), b.get(k)));
            differing += countDifferentBits(a.get(k), b.get(k));
        }
        System.out.printf("FP8 negative control: scales for 50x52 read as 52x50: %d activation values differ from the F32 reference,"
                + " worst relative error %.3e (logits %.3e)%n", differing, worst, Fixtures.relMaxError(a.get("logits"), b.get("logits")));
        assertTrue(differing > 0, "a swapped block size left every activation bitwise equal: the test cannot see block mapping errors");
        assertTrue(worst > 1e-4, "a swapped block size changed the activations by only " + worst);

        Derived refused = derive("fp8-refused", new int[] {10, 24}, new int[] {24, 10});
        // refused when the model is opened, from the headers, before anything is computed
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> Model.open(refused.dir, Architecture.LnsMode.AUTO));
        System.out.println("FP8 negative control: 10x24 scales read as 24x10: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(e.getMessage().contains("_scale_inv") && e.getMessage().contains("24x10"), e.getMessage());
    }

    /** {@code depthlens inspect} says the weights are block-quantised FP8, with the block size it will use. */
    @Test
    void inspectReportsTheQuantisation() {
        Derived d = derive("fp8", new int[] {50, 52}, new int[] {50, 52});
        org.depthlens.cli.CliRunner.Result r = org.depthlens.cli.CliRunner.run("inspect", "--model", d.dir.toString());
        System.out.println(r.out() + r.err());
        assertEquals(0, r.exit(), r.err());
        String line = r.out().lines().filter(l -> l.startsWith("quantization ")).findFirst().orElse("");
        assertTrue(line.contains("F8_E4M3") && line.contains("104 weights") && line.contains("50x52 blocks"), r.out());
        assertTrue(r.out().contains("F8_E4M3=247808"), r.out()); // the dtypes line counts parameters, not the scales
        org.depthlens.cli.CliRunner.Result plain = org.depthlens.cli.CliRunner.run("inspect", "--model",
                Fixtures.hf(FIXTURE).resolve("model").toString());
        assertEquals(0, plain.exit(), plain.err());
        assertFalse(plain.out().contains("quantization"), plain.out());
    }

    /** The test's own E4M3 codec against the format's definition (and, as a cross-check, against the loader's decoder). */
    @Test
    void e4m3CodecFollowsTheFormat() {
        // every non-NaN code round-trips; the decoder agrees with the loader's table (NaN codes aside)
        for (int c = 0; c < 256; c++) {
            if ((c & 0x7F) == 0x7F) {
                assertTrue(Float.isNaN(decodeE4M3((byte) c)));
                continue;
            }
            float v = decodeE4M3((byte) c);
            assertEquals(c, encodeE4M3(v) & 0xFF, "code 0x" + Integer.toHexString(c) + " = " + v);
            assertEquals(Float.floatToRawIntBits(FloatDecoder.e4m3(c)), Float.floatToRawIntBits(v), "code 0x" + Integer.toHexString(c));
        }
        assertEquals(448f, decodeE4M3((byte) 0x7E));
        assertEquals(0x1p-9f, decodeE4M3((byte) 0x01));   // smallest subnormal
        assertEquals(7 * 0x1p-9f, decodeE4M3((byte) 0x07)); // largest subnormal
        assertEquals(0x1p-6f, decodeE4M3((byte) 0x08));   // smallest normal
        // round to nearest, ties to even, between every pair of neighbouring positive codes
        for (int c = 0; c < 0x7E; c++) {
            float lo = decodeE4M3((byte) c), hi = decodeE4M3((byte) (c + 1));
            float mid = (lo + hi) / 2; // exact: both have at most 4 significant bits
            int even = (c & 1) == 0 ? c : c + 1;
            assertEquals(even, encodeE4M3(mid) & 0xFF, "tie between 0x" + Integer.toHexString(c) + " and the next code");
            assertEquals(c, encodeE4M3(Math.nextDown(mid)) & 0xFF);
            assertEquals(c + 1, encodeE4M3(Math.nextUp(mid)) & 0xFF);
            assertEquals(c | 0x80, encodeE4M3(-Math.nextDown(mid)) & 0xFF);
        }
        // saturation (no NaN from overflow), signed zeros, underflow, NaN
        assertEquals(0x7E, encodeE4M3(448.00003f) & 0xFF);
        assertEquals(0x7E, encodeE4M3(464f) & 0xFF);
        assertEquals(0x7E, encodeE4M3(1e30f) & 0xFF);
        assertEquals(0x7E, encodeE4M3(Float.POSITIVE_INFINITY) & 0xFF);
        assertEquals(0xFE, encodeE4M3(-500f) & 0xFF);
        assertEquals(0x00, encodeE4M3(0f) & 0xFF);
        assertEquals(0x80, encodeE4M3(-0f) & 0xFF);
        assertEquals(0x00, encodeE4M3(0x1p-10f) & 0xFF);                 // half the smallest subnormal: tie to 0
        assertEquals(0x01, encodeE4M3(Math.nextUp(0x1p-10f)) & 0xFF);
        assertEquals(0x80, encodeE4M3(-1e-30f) & 0xFF);
        assertEquals(0x7F, encodeE4M3(Float.NaN) & 0x7F);
        // what the quantiser does with a block: its max maps to exactly 448, the scale is not a power of two
        float amax = 0.0371f, s = amax / E4M3_MAX;
        assertEquals(0x7E, encodeE4M3(amax / s) & 0xFF);
        assertTrue(Integer.bitCount(Float.floatToRawIntBits(s) & 0x7FFFFF) > 0);
    }

    // ---------------------------------------------------------------------------------------------
    // E4M3 (torch.float8_e4m3fn): 1 sign, 4 exponent (bias 7), 3 mantissa bits; no infinities,
    // S.1111.111 is NaN, max 448 = 1.75 * 2^8, subnormals m/8 * 2^-6.

    /** float32 to E4M3: round to nearest, ties to even, saturating at +-448 (as quantisers clamp before casting). */
    static byte encodeE4M3(float x) {
        if (Float.isNaN(x)) return (byte) 0x7F;
        int sign = (Float.floatToRawIntBits(x) >>> 31) << 7;
        double a = Math.min(Math.abs((double) x), E4M3_MAX);
        int code;
        if (a < 0x1p-6) {
            // subnormal range: multiples of 2^-9; a rounded count of 8 is the smallest normal, code 0x08
            code = (int) Math.rint(a * 0x1p9);
        } else {
            int e = Math.getExponent(a);                 // -6..8
            int k = (int) Math.rint(Math.scalb(a, 3 - e)); // 8..16, exact scaling by a power of two
            if (k == 16) {
                k = 8;
                e++;
            }
            code = ((e + 7) << 3) | (k - 8);
        }
        if (code > 0x7E) throw new AssertionError("E4M3 encoding of " + x + " overflowed to " + code);
        return (byte) (sign | code);
    }

    static float decodeE4M3(byte b) {
        int bits = b & 0xFF;
        int e = (bits >>> 3) & 0xF, m = bits & 7;
        double v;
        if (e == 15 && m == 7) v = Double.NaN;
        else if (e == 0) v = m * 0x1p-9;
        else v = (8 + m) * Math.scalb(1.0, e - 10);
        return (float) ((bits & 0x80) != 0 ? -v : v);
    }

    // ---------------------------------------------------------------------------------------------
    // Writing the derived checkpoints

    /** One quantised weight: E4M3 codes, its scale_inv grid and what HF's dequantisation makes of them. */
    record Quantised(long rows, long cols, byte[] codes, long[] gridShape, float[] scaleInv, float[] dequantised) {}

    /** An FP8 checkpoint written by the test. */
    record Derived(Path dir, Map<String, Quantised> quantised, double worstWeightError, int blocks, int partialBlocks) {}

    /**
     * Writes the FP8 checkpoint: weights quantised in {@code quantBlock} blocks, config.json with
     * quantization_config.weight_block_size = {@code configBlock}, every other tensor copied byte for byte.
     */
    Derived derive(String name, int[] quantBlock, int[] configBlock) {
        Path src = Fixtures.copyModel(FIXTURE, false, tmp.resolve("src-" + name)); // never read the shared copy in place
        Path out = tmp.resolve(name);
        Map<String, Tensor> tensors = new TreeMap<>();
        Map<String, Quantised> quantised = new TreeMap<>();
        double worstErr = 0;
        int blocks = 0, partial = 0;
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            for (TensorInfo t : f.tensors().values()) {
                if (QUANTISED.matcher(t.name()).matches()) {
                    assertEquals(2, t.rank(), t.name());
                    float[] w = new float[(int) t.numel()];
                    f.readF32(t, 0, t.numel(), FloatBuffer.wrap(w));
                    Quantised q = quantise(w, t.shape()[0], t.shape()[1], quantBlock);
                    quantised.put(t.name(), q);
                    tensors.put(t.name(), Tensor.raw(DType.F8_E4M3, t.shape(), q.codes()));
                    tensors.put(t.name() + "_scale_inv", Tensor.f32(q.gridShape(), q.scaleInv()));
                    worstErr = Math.max(worstErr, worstBlockError(w, q, quantBlock));
                    blocks += (int) (q.gridShape()[0] * q.gridShape()[1]);
                    partial += (int) (q.gridShape()[0] * q.gridShape()[1]
                            - (q.rows() / quantBlock[0]) * (q.cols() / quantBlock[1]));
                } else {
                    assertTrue(KEPT.matcher(t.name()).matches(), "tensor " + t.name() + " is neither quantised nor known to stay as it is");
                    tensors.put(t.name(), Tensor.raw(t.dtype(), t.shape(), rawBytes(t)));
                }
            }
        }
        // layer 0: 5 MLA projections + dense MLP; layers 1-3: 5 + 8 experts x 3 + shared expert x 3
        assertEquals(5 + 3 + 3 * (5 + 8 * 3 + 3), quantised.size(), "FP8 weights");
        assertTrue(partial > 0, "block " + quantBlock[0] + "x" + quantBlock[1] + " leaves no partial blocks");
        try {
            Files.createDirectories(out);
            copyOtherFiles(src, out);
            ObjectNode config = (ObjectNode) new ObjectMapper().readTree(src.resolve("config.json").toFile());
            ObjectNode q = config.putObject("quantization_config");
            q.put("quant_method", "fp8");
            q.put("fmt", "e4m3");
            q.put("activation_scheme", "dynamic");
            ArrayNode bs = q.putArray("weight_block_size");
            bs.add(configBlock[0]);
            bs.add(configBlock[1]);
            Files.writeString(out.resolve("config.json"), config.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SafetensorsWriter.write(out.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return new Derived(out, quantised, worstErr, blocks, partial);
    }

    /**
     * The F32 "dequantised reference" of {@code d}: each FP8 weight as float32(e4m3) * scale_inv, every
     * other tensor as in the original, config.json without quantization_config.
     */
    Path writeDequantisedReference(String name, Derived d) {
        Path src = Fixtures.copyModel(FIXTURE, false, tmp.resolve("src-" + name));
        Path out = tmp.resolve(name);
        Map<String, Tensor> tensors = new TreeMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve("model.safetensors"))) {
            for (TensorInfo t : f.tensors().values()) {
                Quantised q = d.quantised.get(t.name());
                tensors.put(t.name(), q != null ? Tensor.f32(t.shape(), q.dequantised()) : Tensor.raw(t.dtype(), t.shape(), rawBytes(t)));
            }
        }
        try {
            Files.createDirectories(out);
            copyOtherFiles(src, out);
            Files.copy(src.resolve("config.json"), out.resolve("config.json"));
            assertFalse(Files.readString(out.resolve("config.json")).contains("quantization_config"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SafetensorsWriter.write(out.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return out;
    }

    /**
     * DeepSeek's block quantisation: per [b0, b1] block (the last ones partial), scale_inv = max|w| / 448
     * in float32, codes = e4m3(w / scale_inv); dequantised = float32(e4m3) * scale_inv, in float32.
     */
    static Quantised quantise(float[] w, long rows, long cols, int[] block) {
        int r = (int) rows, c = (int) cols, b0 = block[0], b1 = block[1];
        int gr = (r + b0 - 1) / b0, gc = (c + b1 - 1) / b1;
        float[] scale = new float[gr * gc];
        byte[] codes = new byte[r * c];
        float[] deq = new float[r * c];
        for (int bi = 0; bi < gr; bi++) {
            for (int bj = 0; bj < gc; bj++) {
                int r1 = Math.min(r, (bi + 1) * b0), c1 = Math.min(c, (bj + 1) * b1);
                float amax = 0;
                for (int i = bi * b0; i < r1; i++) for (int j = bj * b1; j < c1; j++) amax = Math.max(amax, Math.abs(w[i * c + j]));
                float s = amax > 0 ? amax / E4M3_MAX : 1f;
                scale[bi * gc + bj] = s;
                for (int i = bi * b0; i < r1; i++) {
                    for (int j = bj * b1; j < c1; j++) {
                        byte q = encodeE4M3(w[i * c + j] / s);
                        codes[i * c + j] = q;
                        deq[i * c + j] = decodeE4M3(q) * s;
                    }
                }
            }
        }
        return new Quantised(rows, cols, codes, new long[] {gr, gc}, scale, deq);
    }

    /** max over blocks of max|dequantised - w| / max|w| in the block. */
    static double worstBlockError(float[] w, Quantised q, int[] block) {
        int r = (int) q.rows(), c = (int) q.cols();
        double worst = 0;
        for (int bi = 0; bi * block[0] < r; bi++) {
            for (int bj = 0; bj * block[1] < c; bj++) {
                double diff = 0, max = 0;
                for (int i = bi * block[0]; i < Math.min(r, (bi + 1) * block[0]); i++) {
                    for (int j = bj * block[1]; j < Math.min(c, (bj + 1) * block[1]); j++) {
                        diff = Math.max(diff, Math.abs((double) q.dequantised()[i * c + j] - w[i * c + j]));
                        max = Math.max(max, Math.abs(w[i * c + j]));
                    }
                }
                if (max > 0) worst = Math.max(worst, diff / max);
            }
        }
        return worst;
    }

    private static byte[] rawBytes(TensorInfo t) {
        byte[] out = new byte[(int) t.byteLength()];
        try (FileChannel ch = FileChannel.open(t.file(), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.wrap(out);
            while (b.hasRemaining()) {
                if (ch.read(b, t.fileOffset() + b.position()) < 0) throw new IOException("unexpected end of " + t.file());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    private static void copyOtherFiles(Path src, Path out) throws IOException {
        for (String f : List.of("generation_config.json")) {
            if (Files.exists(src.resolve(f))) Files.copy(src.resolve(f), out.resolve(f));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Running and comparing

    static long countDifferentBits(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        long n = 0;
        for (int i = 0; i < a.length; i++) if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) n++;
        return n;
    }

    static void assertBitwise(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        long n = countDifferentBits(want, got);
        if (n == 0) return;
        int first = 0;
        while (Float.floatToRawIntBits(want[first]) == Float.floatToRawIntBits(got[first])) first++;
        throw new AssertionError(what + ": " + n + " of " + want.length + " values differ bitwise from the F32 dequantised reference"
                + " (first at " + first + ": " + got[first] + " instead of " + want[first] + "; max relative error "
                + Fixtures.relMaxError(got, want) + ")");
    }
}
