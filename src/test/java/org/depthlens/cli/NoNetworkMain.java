package org.depthlens.cli;

import java.lang.reflect.Method;
import java.net.SocketPermission;
import java.security.Permission;

/**
 * Runs {@code MAIN-CLASS ARGS...} with every socket operation of Java code refused (connect,
 * resolve, listen, accept): a SecurityManager that allows everything but {@link SocketPermission}.
 * The fallback of the network-denied test where {@code unshare -n} is not permitted. Needs
 * {@code -Djava.security.manager=allow} on Java 17. Native code is not covered (unshare covers it).
 */
public final class NoNetworkMain {
    private NoNetworkMain() {}

    public static void main(String[] args) throws Throwable {
        System.setSecurityManager(new SecurityManager() {
            @Override
            public void checkPermission(Permission perm) {
                if (perm instanceof SocketPermission) throw new SecurityException("network denied by test: " + perm);
            }

            @Override
            public void checkPermission(Permission perm, Object context) {
                checkPermission(perm);
            }
        });
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        try {
            main.invoke(null, (Object) rest);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
