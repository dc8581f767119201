package org.depthlens;

/** The documented process exit codes (README "Exit codes"). */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int INTERNAL = 1;
    public static final int USAGE = 2;
    public static final int BAD_INPUT = 3;
    public static final int INTERRUPTED = 130;

    private ExitCodes() {}
}
