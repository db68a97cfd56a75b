package org.jmapauthproxy.support;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends single commands to a real Redis over its protocol, on a connection of the test's own (not
 * the proxy's client), so a test can change Redis while the proxy's path to it is stalled.
 */
public final class RedisCommands {

    private RedisCommands() {
    }

    /** Sends one command and returns the first line of the reply (e.g. {@code +OK}, {@code :1}). */
    public static String send(int port, String... args) throws IOException {
        try (Socket socket = open(port, args)) {
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    /**
     * Sends one command and returns the whole reply (RESP2): a {@code String} for a status or bulk
     * string, a {@code Long} for an integer, a {@code List} for an array, {@code null} for a null
     * reply; an error reply throws.
     */
    public static Object call(int port, String... args) throws IOException {
        try (Socket socket = open(port, args)) {
            return read(new BufferedInputStream(socket.getInputStream()));
        }
    }

    private static Socket open(int port, String... args) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        StringBuilder command = new StringBuilder("*").append(args.length).append("\r\n");
        for (String arg : args) {
            command.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
        }
        OutputStream out = socket.getOutputStream();
        out.write(command.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
        return socket;
    }

    private static Object read(InputStream in) throws IOException {
        String line = line(in);
        String rest = line.substring(1);
        switch (line.charAt(0)) {
            case '+':
                return rest;
            case '-':
                throw new IOException("Redis answered " + line);
            case ':':
                return Long.parseLong(rest);
            case '$': {
                int length = Integer.parseInt(rest);
                if (length < 0) {
                    return null;
                }
                byte[] bytes = in.readNBytes(length + 2);
                return new String(bytes, 0, length, StandardCharsets.UTF_8);
            }
            case '*': {
                int count = Integer.parseInt(rest);
                if (count < 0) {
                    return null;
                }
                List<Object> items = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    items.add(read(in));
                }
                return items;
            }
            default:
                throw new IOException("not a RESP2 reply: " + line);
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c == -1) {
                throw new IOException("connection closed in a reply");
            }
            if (c != '\r') {
                line.append((char) c);
            }
        }
        return line.toString();
    }
}
