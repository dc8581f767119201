package org.depthlens.eval;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * lm-eval's context/continuation split with a toy greedy longest-match tokenizer (the shape of
 * lm-eval's tests/models/test_encode_pair.py): pieces from a fixed vocabulary, else one id per character.
 */
class McEncodingTest {
    static final int BOS = 1;
    static final int EOS = 2;
    static final List<String> VOCAB = List.of(": C", "Answer", "Question", " the", " C", "at", ":", " ", " blue", "sky is");

    static TextEncoder toy(boolean addsBos) {
        List<String> longest = new ArrayList<>(VOCAB);
        longest.sort(Comparator.comparingInt(String::length).reversed());
        return new TextEncoder() {
            @Override
            public int[] encode(String s, boolean special) {
                List<Integer> ids = new ArrayList<>();
                if (special && addsBos) ids.add(BOS);
                int i = 0;
                outer:
                while (i < s.length()) {
                    for (String p : longest) {
                        if (s.startsWith(p, i)) {
                            ids.add(1000 + VOCAB.indexOf(p));
                            i += p.length();
                            continue outer;
                        }
                    }
                    ids.add((int) s.charAt(i++));
                }
                return ids.stream().mapToInt(Integer::intValue).toArray();
            }

            @Override
            public int prefixToken() {
                return BOS;
            }
        };
    }

    static int id(String piece) {
        return 1000 + VOCAB.indexOf(piece);
    }

    @Test
    void trailingSpaceOfTheContextMovesToTheChoice() {
        // "The sky is " + "blue": the space moves, so the choice is scored as " blue" after "The sky is"
        LoglikRequest r = McEncoding.encode(toy(false), "The sky is ", "blue");
        assertArrayEquals(new int[] {'T', 'h', 'e', id(" "), id("sky is")}, r.context());
        assertArrayEquals(new int[] {id(" blue")}, r.continuation());
    }

    @Test
    void tokenizerDefaultBosStaysInTheContext() {
        LoglikRequest r = McEncoding.encode(toy(true), "Question:", " the");
        assertArrayEquals(new int[] {BOS, id("Question"), id(":")}, r.context());
        assertArrayEquals(new int[] {id(" the")}, r.continuation());
    }

    @Test
    void emptyContextIsThePrefixTokenAndTheChoiceIsEncodedAlone() {
        LoglikRequest r = McEncoding.encode(toy(true), "", "the");
        assertArrayEquals(new int[] {BOS}, r.context());
        assertArrayEquals(new int[] {'t', 'h', 'e'}, r.continuation()); // no second BOS
    }

    @Test
    void continuationIsCutFromTheWholeEncodingByCount() {
        // lm-eval test_partial_merge_is_left_as_it_is: "Answer: Cat" = Answer | ": C" | at -> continuation [at]
        LoglikRequest r = McEncoding.encode(toy(false), "Answer:", " Cat");
        assertArrayEquals(new int[] {id("Answer"), id(":")}, r.context());
        assertArrayEquals(new int[] {id("at")}, r.continuation());
    }

    @Test
    void boundaryTokenSwallowingTheWholeChoiceFallsBackToItsOwnEncoding() {
        // lm-eval test_merged_boundary_leaves_something_to_score: both spellings of the pair
        for (String[] pair : new String[][] {{"Answer:", " C"}, {"Answer: ", "C"}}) {
            LoglikRequest r = McEncoding.encode(toy(false), pair[0], pair[1]);
            assertArrayEquals(new int[] {id("Answer"), id(":")}, r.context());
            assertArrayEquals(new int[] {id(" C")}, r.continuation());
        }
    }

    @Test
    void whitespaceOnlyContextWithoutBosGetsThePrefixToken() {
        LoglikRequest r = McEncoding.encode(toy(false), "  ", "the");
        assertArrayEquals(new int[] {BOS}, r.context());
        assertArrayEquals(new int[] {id(" "), id(" the")}, r.continuation());
    }

    @Test
    void accuracyAndLengthNormalisedAccuracy() {
        // item 0: ll favours " b" (-2.0) but per character " aaaaaaaaa" (-3.0 / 10) wins; gold 0
        // item 1: a tie in ll is resolved to the first choice (numpy argmax); gold 1
        List<List<String>> choices = List.of(List.of(" aaaaaaaaa", " b", " c"), List.of(" x", " y"));
        double[][] lls = {{-3.0, -2.0, -8.0}, {-1.0, -1.0}};
        Map<String, Double> m = McScoring.score(lls, choices, new int[] {0, 1});
        assertEquals(0.0, m.get("acc"));
        assertEquals(0.5, m.get("acc_norm")); // item 0 right by length, item 1: -0.5 vs -0.5 -> choice 0, wrong
    }

    @Test
    void lengthIsCountedInCharactersNotUtf16Units() {
        // "\uD83D\uDE00" is one character (two UTF-16 units): -2.0/2 beats -2.9/3 only if counted as 2 chars (" " + emoji)
        List<List<String>> choices = List.of(List.of(" \uD83D\uDE00", " ab"));
        Map<String, Double> m = McScoring.score(new double[][] {{-2.0, -2.9}}, choices, new int[] {1});
        assertEquals(1.0, m.get("acc_norm"));
    }
}
