package org.depthlens.cli;

import org.depthlens.util.Progress;

import java.io.PrintStream;

/**
 * A progress bar on stderr: redrawn in place on a terminal, a plain line every 15 s otherwise (logs).
 * Shows the fraction of block evaluations done and an ETA from the rate so far.
 */
final class ConsoleProgress implements Progress {
    private final PrintStream err;
    private final boolean tty;
    private final long start = System.nanoTime();
    private long lastDraw;
    private String lastWhat = "";
    private long lastTotal = -1;
    private long stageStart = System.nanoTime();

    ConsoleProgress(PrintStream err) {
        this.err = err;
        this.tty = System.console() != null && System.getenv("TERM") != null && !"dumb".equals(System.getenv("TERM"));
    }

    @Override
    public synchronized void update(long done, long total, String what) {
        long now = System.nanoTime();
        if (total != lastTotal || done == 0) {
            stageStart = now;
            lastTotal = total;
        }
        boolean finished = done >= total;
        long interval = tty ? 200_000_000L : 15_000_000_000L;
        if (!finished && now - lastDraw < interval) return;
        lastDraw = now;
        double f = total == 0 ? 1 : (double) done / total;
        double el = (now - stageStart) / 1e9;
        String eta = f > 0 && !finished ? String.format(" ETA %s", fmt(el / f - el)) : "";
        String stage = what.contains(", ") ? what : what;
        if (tty) {
            int width = 30;
            int fill = (int) Math.round(f * width);
            String line = String.format("\r[%s%s] %3.0f%% %s%s", "=".repeat(fill), " ".repeat(width - fill), f * 100, stage, eta);
            err.print(line + " ".repeat(Math.max(0, lastWhat.length() - line.length())));
            lastWhat = line;
            if (finished) {
                err.println();
                lastWhat = "";
            }
        } else if (!finished || !what.equals(lastWhat)) {
            err.printf("[%3.0f%%] %s%s (%.0f s)%n", f * 100, stage, eta, (now - start) / 1e9);
            lastWhat = what;
        }
        err.flush();
    }

    private static String fmt(double s) {
        if (s < 60) return String.format("%.0fs", s);
        if (s < 3600) return String.format("%dm%02ds", (int) s / 60, (int) s % 60);
        return String.format("%dh%02dm", (int) s / 3600, ((int) s % 3600) / 60);
    }
}
