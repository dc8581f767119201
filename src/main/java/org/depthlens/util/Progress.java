package org.depthlens.util;

/** Receives progress of long passes (the CLI draws a bar on stderr; tests ignore it). */
public interface Progress {
    Progress NONE = (done, total, what) -> { };

    /** {@code done} of {@code total} units of work finished; {@code what} says what is running. */
    void update(long done, long total, String what);
}
