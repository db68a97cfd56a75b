package org.jmapauthproxy.support;

import org.junit.jupiter.api.Assumptions;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * HTTP/1.1 over a plain socket, for requests the JDK client refuses to send (hop-by-hop headers,
 * {@code Expect}, a declared length with no body) and for reading responses exactly as sent.
 */
public final class RawHttp implements AutoCloseable {

    /** A parsed response: status, headers in order (names lower-cased), body. */
    public record Response(int status, List<String[]> headers, byte[] body) {
        public List<String> all(String name) {
            List<String> values = new ArrayList<>();
            for (String[] header : headers) {
                if (header[0].equals(name.toLowerCase(Locale.ROOT))) {
                    values.add(header[1]);
                }
            }
            return values;
        }

        public String first(String name) {
            List<String> values = all(name);
            return values.isEmpty() ? null : values.get(0);
        }

        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public RawHttp(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(20_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public void send(String head) throws IOException {
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    public void send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Reads a response's status line and headers only, leaving its body unread. */
    public Response readHead() throws IOException {
        String statusLine = line();
        int status = Integer.parseInt(statusLine.split(" ")[1]);
        List<String[]> headers = new ArrayList<>();
        for (String line = line(); !line.isEmpty(); line = line()) {
            int colon = line.indexOf(':');
            headers.add(new String[]{line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim()});
        }
        return new Response(status, headers, new byte[0]);
    }

    /** Reads one response; interim (1xx) responses are returned like any other. */
    public Response read() throws IOException {
        Response head = readHead();
        int status = head.status();
        List<String[]> headers = head.headers();
        if (status < 200 || status == 204 || status == 304) {
            return head;
        }
        String length = head.first("content-length");
        byte[] body;
        if (length != null) {
            body = in.readNBytes(Integer.parseInt(length));
        } else if ("chunked".equalsIgnoreCase(head.first("transfer-encoding"))) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            for (int size = Integer.parseInt(line().split(";")[0].trim(), 16); size > 0;
                 size = Integer.parseInt(line().split(";")[0].trim(), 16)) {
                all.write(in.readNBytes(size));
                line();
            }
            line();
            body = all.toByteArray();
        } else {
            body = in.readAllBytes();
        }
        return new Response(status, headers, body);
    }

    /**
     * Reads a chunked body as it arrives until its last chunk or the end of the connection, for at
     * most {@code timeoutMillis}; returns what arrived and whether it ended within that time.
     */
    public record Stream(String text, boolean ended) {
    }

    public Stream readStreamUntilEnd(int timeoutMillis) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        socket.setSoTimeout(100);
        try {
            while (System.nanoTime() < deadline) {
                int b;
                try {
                    b = in.read();
                } catch (java.net.SocketTimeoutException quiet) {
                    continue;
                } catch (IOException reset) {
                    return new Stream(all.toString(StandardCharsets.UTF_8), true);
                }
                if (b < 0) {
                    return new Stream(all.toString(StandardCharsets.UTF_8), true);
                }
                all.write(b);
                if (all.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n0\r\n\r\n")) {
                    return new Stream(all.toString(StandardCharsets.UTF_8), true);
                }
            }
            return new Stream(all.toString(StandardCharsets.UTF_8), false);
        } finally {
            socket.setSoTimeout(20_000);
        }
    }

    /**
     * Returns once the server has read every byte sent so far, so that what is sent next reaches it
     * in a read of its own (a head arriving in pieces). Watches the kernel's table of TCP connections
     * (Linux {@code /proc/net/tcp}, {@code tcp6}): first until nothing sent by this end is left
     * unacknowledged (the server's kernel holds it all), then until the server's end has nothing
     * left unread. Elsewhere the test is skipped.
     */
    public void awaitReadByServer() throws IOException, InterruptedException {
        Assumptions.assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs Linux's /proc/net/tcp");
        awaitEmptyQueue(socket.getLocalPort(), socket.getPort(), 0);
        awaitEmptyQueue(socket.getPort(), socket.getLocalPort(), 1);
    }

    /** Polls the established connection from {@code local} to {@code remote} until its tx (0) or rx (1) queue is empty. */
    private static void awaitEmptyQueue(int local, int remote, int queue) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (queued(local, remote, queue) != 0) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("bytes still queued after 10 s on 127.0.0.1:" + local + " -> " + remote);
            }
            Thread.sleep(1); // paces the poll
        }
    }

    private static long queued(int local, int remote, int queue) throws IOException {
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path path = Path.of(table);
            if (!Files.isReadable(path)) {
                continue;
            }
            for (String row : Files.readAllLines(path)) {
                // sl local_address rem_address st tx_queue:rx_queue ...; addresses are HEXIP:HEXPORT, 01 = ESTABLISHED
                String[] fields = row.trim().split("\\s+");
                if (fields.length > 4 && "01".equals(fields[3]) && port(fields[1]) == local && port(fields[2]) == remote) {
                    return Long.parseLong(fields[4].split(":")[queue], 16);
                }
            }
        }
        throw new AssertionError("no established connection 127.0.0.1:" + local + " -> " + remote + " in /proc/net/tcp");
    }

    private static int port(String address) {
        return Integer.parseInt(address.substring(address.indexOf(':') + 1), 16);
    }

    /** Reads what the server sends until it closes the connection, or resets it; returns those bytes. */
    public byte[] readUntilClosed() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[1 << 16];
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                all.write(buffer, 0, n);
            }
        } catch (java.net.SocketException reset) {
            // A reset ends the connection as well.
        }
        return all.toByteArray();
    }

    /** The connection's input as it stands, for a body too large to be read whole into memory. */
    public InputStream input() {
        return in;
    }

    /** Bytes that can be read now without blocking. */
    public int available() throws IOException {
        return in.available();
    }

    /** Whether the server closed the connection (reads EOF within the timeout). */
    public boolean closedByServer(int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        try {
            return in.read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    private String line() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            if (b == '\n') {
                break;
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        if (b < 0 && line.size() == 0) {
            throw new IOException("connection closed");
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
