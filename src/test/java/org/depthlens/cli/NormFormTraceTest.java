package org.depthlens.cli;

import org.depthlens.Fixtures;
import org.depthlens.LnsCode;
import org.depthlens.model.family.NormType;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsFile;
import org.depthlens.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every block normalisation form of the Curse-of-Depth code through {@code trace}, against the fixtures'
 * reference.safetensors (an independent float64 forward written from that code): the form given by
 * {@code --norm-type}, by config.json's {@code "norm_type"}, and detected from the norm tensors where the
 * files can tell (not LNS from Pre-LN, not deeppost from post).
 */
class NormFormTraceTest {
    @TempDir
    Path tmp;

    enum How { FLAG, CONFIG, DETECTED }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String f : LnsCode.FIXTURES) {
            out.add(Arguments.of(f, How.FLAG));
            out.add(Arguments.of(f, How.CONFIG));
            String t = LnsCode.normType(f);
            if (!t.equalsIgnoreCase("lns") && !t.equals("deeppost")) out.add(Arguments.of(f, How.DETECTED));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void traceMatchesReference(String fixture, How how) throws Exception {
        NormType type = NormType.parse(LnsCode.normType(fixture));
        Path model = Fixtures.lnsCode(fixture).resolve("model");
        List<String> args = new ArrayList<>(List.of("trace", "--ids", Fixtures.lnsCode(fixture).resolve("ids.json").toString(),
                "--out", tmp.resolve("trace.safetensors").toString()));
        switch (how) {
            case FLAG -> {
                // the code's names in any case
                args.addAll(List.of("--norm-type", type.code().toUpperCase(Locale.ROOT)));
                if (type.usesPostNum()) args.addAll(List.of("--post-num", Integer.toString(LnsCode.postNum(fixture))));
            }
            case CONFIG -> model = LnsCode.withConfigKeys(fixture, type.code(), type.usesPostNum() ? LnsCode.postNum(fixture) : null, tmp);
            case DETECTED -> { }
        }
        args.addAll(List.of("--model", model.toString()));
        CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        boolean ambiguous = how == How.DETECTED && (type == NormType.PRE || type == NormType.POST);
        assertEquals(ambiguous, r.err().contains("depthlens: note: "), r.err());
        if (ambiguous) assertTrue(r.err().contains(type == NormType.PRE ? "--norm-type LNS" : "--norm-type deeppost"), r.err());
        double worst = 0;
        try (SafetensorsFile got = SafetensorsFile.open(tmp.resolve("trace.safetensors"));
             SafetensorsFile want = SafetensorsFile.open(Fixtures.lnsCode(fixture).resolve("reference.safetensors"))) {
            List<String> names = new ArrayList<>(want.tensors().keySet());
            names.remove("input_ids");
            assertTrue(names.contains("logits") && names.contains("resid.0"), names.toString());
            for (String name : names) {
                double err = Fixtures.relMaxError(Fixtures.readFloats(got, name), Fixtures.readFloats(want, name));
                assertTrue(err <= 1e-5, fixture + " " + how + ": " + name + " error " + err);
                worst = Math.max(worst, err);
            }
        }
        System.out.printf("%s (%s): worst max|a-b|/max|ref| %.2e%n", fixture, how, worst);
    }

    /** The files cannot tell LNS from Pre-LN: detection assumes Pre-LN, says so, and the numbers are Pre-LN's (not the reference). */
    @Test
    void lnsWithoutFlagRunsAsPreLnWithNote() throws Exception {
        Path out = tmp.resolve("trace.safetensors");
        CliRunner.Result r = CliRunner.run("trace", "--model", Fixtures.lnsCode("lns").resolve("model").toString(),
                "--ids", Fixtures.lnsCode("lns").resolve("ids.json").toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("assuming Pre-LN (pass --norm-type LNS or --lns on"), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out);
             SafetensorsFile want = SafetensorsFile.open(Fixtures.lnsCode("lns").resolve("reference.safetensors"))) {
            assertTrue(Fixtures.relMaxError(Fixtures.readFloats(got, "resid.6"), Fixtures.readFloats(want, "resid.6")) > 1e-2);
        }
    }

    /** A form whose tensors the files do not hold: exit 3, one line naming the block and the tensor, nothing written. */
    @Test
    void formNotMatchingTheTensorsIsRefused() {
        record Case(String fixture, String[] options, String block, String tensor) {
        }
        for (Case c : List.of(
                new Case("post", new String[] {"--norm-type", "sandwich"}, "block 0", "model.layers.0.input_layernorm.weight"),
                new Case("mix_post_pre", new String[] {"--norm-type", "post_pre", "--post-num", "3"}, "block 2",
                        "model.layers.2.post_feedforward_layernorm.weight"),
                new Case("pre", new String[] {"--lns", "off", "--norm-type", "scale_res_pre_norm"}, "block 0",
                        "model.layers.0.raw_scaling_factor_attn"),
                new Case("sandwich", new String[] {"--lns", "on"}, "block 0", "model.layers.0.post_feedforward_layernorm.weight"))) {
            Path out = tmp.resolve(c.fixture() + ".safetensors");
            List<String> args = new ArrayList<>(List.of("trace", "--model", Fixtures.lnsCode(c.fixture()).resolve("model").toString(),
                    "--ids", Fixtures.lnsCode(c.fixture()).resolve("ids.json").toString(), "--out", out.toString()));
            args.addAll(List.of(c.options()));
            CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(3, r.exit(), c.fixture() + ": " + r.err());
            List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), r.err());
            assertTrue(lines.get(0).startsWith("depthlens: error: ") && lines.get(0).contains(c.block()) && lines.get(0).contains(c.tensor()),
                    lines.get(0));
            assertFalse(Files.exists(out));
        }
    }

    @Test
    void inspectReportsTheFormPerBlockAndHowItWasChosen() {
        CliRunner.Result r = CliRunner.run("inspect", "--model", Fixtures.lnsCode("mix_post_pre").resolve("model").toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("Mix-LN (post_pre, POST_NUM=2), detected from the norm tensors"), r.out());
        assertTrue(r.out().contains("post 0-1, pre 2-5"), r.out());
        r = CliRunner.run("inspect", "--model", Fixtures.lnsCode("deeppost").resolve("model").toString(), "--norm-type", "DeepPost", "--json");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\"norm_type\" : \"DeepNorm post (deeppost), given by --norm-type\""), r.out());
        assertTrue(r.out().contains("post (alpha 2.8284271247461903) 0-5"), r.out());
    }

    @Test
    void unknownNormTypeIsAUsageError() {
        CliRunner.Result r = CliRunner.run("inspect", "--model", Fixtures.lnsCode("pre").resolve("model").toString(), "--norm-type", "mixln");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--norm-type 'mixln'") && r.err().contains("post_pre"), r.err());
        String pre = Fixtures.lnsCode("pre").resolve("model").toString();
        r = CliRunner.run("analyze", "-m", pre, "-m", pre, "-l", "a", "-l", "b", "--ids", Fixtures.lnsCode("pre").resolve("ids.json").toString(),
                "--norm-type", "pre", "--norm-type", "post", "--norm-type", "LNS", "--out", tmp.resolve("out").toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("--norm-type is given 3 times for 2 models"), r.err());
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    /**
     * Bad norm information: an unknown config.json "norm_type", norm tensors that fit no NORM_TYPE (block 1 of the
     * llama fixture made post-norm by renaming its input norm), and a --post-num the tensors contradict.
     */
    @Test
    void normInformationTheFilesContradictIsRefused() {
        Path unknown = BadModels.llama(tmp, "unknown-norm-type");
        BadModels.editConfig(unknown, c -> c.put("norm_type", "mixln"));
        Path mixed = BadModels.llama(tmp, "mixed-norms");
        Map<String, long[]> shapes = BadModels.shapes(mixed);
        Map<String, float[]> w = BadModels.weights(mixed);
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        w.forEach((name, data) -> tensors.put(name.replace("layers.1.input_layernorm", "layers.1.post_feedforward_layernorm"),
                SafetensorsWriter.Tensor.of(DType.F32, shapes.get(name), data)));
        SafetensorsWriter.write(mixed.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        record Case(Path model, String[] options, String[] message) {
        }
        for (Case c : List.of(
                new Case(unknown, new String[0], new String[] {"unknown-norm-type/config.json: norm_type 'mixln' is not a NORM_TYPE"}),
                new Case(mixed, new String[0], new String[] {"mixed-norms: the blocks' norm tensors (pre 0, post 1, pre 2-3) match no NORM_TYPE"}),
                new Case(Fixtures.lnsCode("mix_post_pre").resolve("model"), new String[] {"--post-num", "1"},
                        new String[] {"--post-num 1 but the norm tensors say the first 2 blocks are Post-LN"}))) {
            List<String> args = new ArrayList<>(List.of("inspect", "--model", c.model().toString()));
            args.addAll(List.of(c.options()));
            CliRunner.Result r = CliRunner.run(args.toArray(String[]::new));
            assertEquals(3, r.exit(), r.err());
            List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
            assertEquals(1, lines.size(), r.err());
            for (String m : c.message()) assertTrue(lines.get(0).contains(m), lines.get(0));
        }
    }
}
