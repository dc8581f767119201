package org.depthlens.model;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/** Runs {@link Blas#configure()} before any test class exists, as {@code Main} does for the CLI. */
public final class BlasSessionListener implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        Blas.configure();
    }
}
