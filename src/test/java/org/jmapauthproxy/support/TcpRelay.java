package org.jmapauthproxy.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP relay on a free loopback port in front of a real server, which a test can stall and resume:
 * while stalled it keeps every connection open and keeps accepting new ones, but forwards no byte in
 * either direction; what arrives meanwhile is held and forwarded, in order, on {@link #resume()}.
 * That is what a server stuck in a long command (or a congested network) looks like to a client,
 * unlike a stopped server, which refuses or resets.
 *
 * <p>{@link #stall()} is exact: once it returns, not one more byte is forwarded until {@code resume()}
 * (a write is only started under the gate's lock, and {@code stall()} takes that lock). Threads: one
 * acceptor, and two pumps per connection, all daemons.
 */
public final class TcpRelay implements AutoCloseable {

    private final String targetHost;
    private final int targetPort;
    private final ServerSocket listener;
    private final Object gate = new Object();
    private final List<Socket> sockets = new ArrayList<>();
    private boolean stalled;
    private int accepted;

    /** Starts relaying connections on a free loopback port to {@code targetHost:targetPort}. */
    public TcpRelay(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon("tcp-relay-accept", this::accept).start();
    }

    /** The port clients connect to. */
    public int port() {
        return listener.getLocalPort();
    }

    /** Stops forwarding bytes (connections stay open and new ones are accepted). */
    public void stall() {
        synchronized (gate) {
            stalled = true;
        }
    }

    /** Forwards again, beginning with what was held while stalled. */
    public void resume() {
        synchronized (gate) {
            stalled = false;
            gate.notifyAll();
        }
    }

    /** Connections accepted so far. */
    public int connectionsAccepted() {
        synchronized (gate) {
            return accepted;
        }
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        synchronized (gate) {
            for (Socket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
            sockets.clear();
            stalled = false;
            gate.notifyAll();
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            Socket client;
            Socket server;
            try {
                client = listener.accept();
            } catch (IOException closed) {
                return;
            }
            try {
                server = new Socket(targetHost, targetPort);
            } catch (IOException refused) {
                closeQuietly(client);
                continue;
            }
            synchronized (gate) {
                accepted++;
                sockets.add(client);
                sockets.add(server);
            }
            daemon("tcp-relay-up", () -> pump(client, server)).start();
            daemon("tcp-relay-down", () -> pump(server, client)).start();
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                synchronized (gate) {
                    while (stalled) {
                        gate.wait();
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
        } catch (IOException | InterruptedException ended) {
            // one side closed: close both below
        }
        closeQuietly(from);
        closeQuietly(to);
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static Thread daemon(String name, Runnable task) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }
}
