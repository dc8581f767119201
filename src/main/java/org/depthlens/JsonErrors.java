package org.depthlens;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;

/** Jackson parse errors as one short line: the parser's words and "at line L, column C", no source dump. */
public final class JsonErrors {
    private JsonErrors() {}

    public static String describe(JsonProcessingException e) {
        String m = String.valueOf(e.getOriginalMessage());
        m = m.replaceAll("\\s*\\(start marker at \\[Source:[^\\]]*\\]\\)", "")
                .replaceAll("\\s*\\[Source:[^\\]]*\\]", "")
                .replaceAll("\\s*\\R\\s*", " ").trim();
        JsonLocation loc = e.getLocation();
        if (loc != null && loc.getLineNr() > 0) m += " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        return m;
    }
}
