package org.depthlens.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URL;

/**
 * Negative control for the network-denied test: {@code NetProbe PORT} tries a TCP connection to
 * 127.0.0.1:PORT (where the test listens), a name lookup and an HTTP request, and prints one line per
 * attempt: "connect ok", "connect denied: ...".
 */
public final class NetProbe {
    private NetProbe() {}

    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 3000);
            System.out.println("connect ok");
        } catch (Exception | Error e) {
            System.out.println("connect denied: " + e);
        }
        try {
            InetAddress.getByName("repo.maven.apache.org");
            System.out.println("resolve ok");
        } catch (Exception | Error e) {
            System.out.println("resolve denied: " + e);
        }
        try {
            new URL("http://127.0.0.1:" + port + "/").openConnection().getInputStream().close();
            System.out.println("http ok");
        } catch (Exception | Error e) {
            System.out.println("http denied: " + e);
        }
        System.out.flush();
    }
}
