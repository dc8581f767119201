package org.depthlens;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;

/** Jackson parse errors as one short line: the parser's words and "at line L, column C", no source dump. */
public final class JsonErrors {
    private JsonErrors() {}

    public static String describe(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage());
        // Jackson's words name its own classes and feature flags; say what the file holds instead
        if (m.startsWith("Trailing token")) m = "more text after the end of the first JSON value (two values pasted one after the other?)";
        m = m.replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)", "")
                .replaceAll("\\s*\\[Source:[^\\]]*\\]", "")
                .replaceAll("\\s*\\R\\s*", " ").trim();
        JsonLocation loc = e.getLocation();
        if (loc != null && loc.getLineNr() > 0) m += " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        return m;
    }

    /**
     * A mapper that reads exactly one JSON value: text after it is an error (Jackson's default reads the first value
     * and silently drops the rest, so a second object appended to a config, an ids file or a JSONL line was ignored;
     * Python's json.load refuses it as "Extra data").
     */
    public static com.fasterxml.jackson.databind.ObjectMapper oneValueMapper() {
        com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
        m.enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        return m;
    }

    /** A {@link #oneValueMapper()} that also refuses a key given twice in one object (Jackson's default keeps the last one silently). */
    public static com.fasterxml.jackson.databind.ObjectMapper strictMapper() {
        com.fasterxml.jackson.databind.ObjectMapper m = oneValueMapper();
        m.enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        return m;
    }

    /** The key of a {@link #strictMapper()} "Duplicate field" error, or null for any other error. */
    public static String duplicateKey(JsonProcessingException e) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^Duplicate field '(.*)'").matcher(String.valueOf(e.getOriginalMessage()));
        return m.find() ? m.group(1) : null;
    }
}
