package org.jmapauthproxy.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Starts the real parts the proxy talks to, on free loopback ports: a redis-server process (the
 * binary shipped in embedded-redis) and {@link TestOrigin}. Init args switch either one to a broken
 * variant: {@code redis=blackhole} (accepts connections, never answers) and {@code origin=closed}
 * (nothing listens); or Redis to another topology: {@code redis=sentinel} (a master and a Sentinel,
 * {@code quarkus.redis.client-type=sentinel}) and {@code redis=tls} (the proxy reaches Redis over
 * TLS with a private CA, through Quarkus's TLS registry; the test on a plain port of the same server).
 */
public final class RealServers implements QuarkusTestResourceLifecycleManager {

    private RedisServer redis;
    private RedisTopologies.Sentinel sentinel;
    private static volatile TcpRelay relay;
    private static volatile int redisPort;

    /** With {@code redis=relayed}: the relay between the proxy and Redis. */
    public static TcpRelay relay() {
        return relay;
    }

    /** The port of the real redis-server (the proxy may be reaching it through a relay). */
    public static int redisPort() {
        return redisPort;
    }

    private static volatile RedisServer current;

    /** Stops the redis-server and starts it again on the same port, empty. */
    public static void restartRedisEmpty() throws IOException {
        current.stop();
        current.start();
    }
    private TestOrigin origin;
    private ServerSocket blackhole;
    private final List<Socket> held = new ArrayList<>();
    private Map<String, String> args = Map.of();

    @Override
    public void init(Map<String, String> initArgs) {
        this.args = initArgs;
    }

    @Override
    public Map<String, String> start() {
        try {
            Map<String, String> config = new HashMap<>();
            if ("blackhole".equals(args.get("redis"))) {
                blackhole = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                Thread acceptor = new Thread(this::holdConnections, "redis-blackhole");
                acceptor.setDaemon(true);
                acceptor.start();
                config.put("quarkus.redis.hosts", "redis://127.0.0.1:" + blackhole.getLocalPort());
                config.put("authproxy.credentials.timeout", "700ms");
            } else if ("sentinel".equals(args.get("redis"))) {
                sentinel = RedisTopologies.Sentinel.start(false);
                redisPort = sentinel.masterPort();
                config.put("quarkus.redis.client-type", "sentinel");
                config.put("quarkus.redis.hosts", "redis://127.0.0.1:" + sentinel.sentinelPort());
                config.put("quarkus.redis.master-name", RedisTopologies.Sentinel.MASTER);
            } else if ("tls".equals(args.get("redis"))) {
                TestCertificates.Pem pem = TestCertificates.selfSigned(Files.createTempDirectory("redis-tls"));
                int port = freePort();
                int tlsPort = freePort();
                redis = RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                        .setting("save \"\"").setting("appendonly no").setting("tls-port " + tlsPort)
                        .setting("tls-cert-file " + pem.certificate()).setting("tls-key-file " + pem.key())
                        .setting("tls-ca-cert-file " + pem.certificate()).setting("tls-auth-clients no").build();
                redis.start();
                redisPort = port;
                config.put("quarkus.redis.hosts", "rediss://127.0.0.1:" + tlsPort);
                config.put("quarkus.redis.tls-configuration-name", "redis");
                config.put("quarkus.tls.redis.trust-store.pem.certs", pem.certificate().toString());
                // Without it the Vert.x client refuses to connect ("Missing hostname verification algorithm").
                config.put("quarkus.tls.redis.hostname-verification-algorithm", "HTTPS");
            } else {
                int port = freePort();
                redis = redisServer(port);
                redis.start();
                current = redis;
                if ("relayed".equals(args.get("redis"))) {
                    // The proxy reaches Redis only through a relay the test can stall; the test
                    // itself talks to Redis directly (redisPort()).
                    relay = new TcpRelay("127.0.0.1", port);
                    config.put("quarkus.redis.hosts", "redis://127.0.0.1:" + relay.port());
                } else {
                    config.put("quarkus.redis.hosts", "redis://127.0.0.1:" + port);
                }
                redisPort = port;
            }
            if ("closed".equals(args.get("origin"))) {
                config.put("authproxy.origin.url", "http://127.0.0.1:" + freePort());
            } else {
                origin = new TestOrigin();
                config.put("authproxy.origin.url", "http://127.0.0.1:" + origin.start());
            }
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            String base64Key = Base64.getEncoder().encodeToString(key);
            Path keyFile = Files.createTempFile("cyrus-jwt", ".pem");
            Files.writeString(keyFile, "-----BEGIN HMAC KEY-----\n" + base64Key + "\n-----END HMAC KEY-----\n");
            keyFile.toFile().deleteOnExit();
            if (origin != null) {
                origin.jwtKey(base64Key);
            }
            config.put("authproxy.origin.jwt-key-file", keyFile.toString());
            if ("tiny".equals(args.get("pool"))) {
                config.put("authproxy.origin.max-connections", "1");
                config.put("authproxy.origin.max-wait-queue", "0");
            }
            if ("one".equals(args.get("pool"))) {
                // One origin connection, a wait queue, and a short origin timeout that bounds the wait.
                config.put("authproxy.origin.max-connections", "1");
                config.put("authproxy.origin.timeout", "2s");
            }
            if (args.containsKey("origin-auth")) {
                config.put("authproxy.origin.auth", args.get("origin-auth"));
            }
            return config;
        } catch (Exception e) {
            stop();
            throw new IllegalStateException("cannot start the test servers", e);
        }
    }

    private void holdConnections() {
        while (!blackhole.isClosed()) {
            try {
                Socket socket = blackhole.accept();
                synchronized (held) {
                    held.add(socket);
                }
                InputStream in = socket.getInputStream();
                Thread reader = new Thread(() -> {
                    try {
                        in.transferTo(java.io.OutputStream.nullOutputStream());
                    } catch (IOException ignored) {
                        // closed
                    }
                }, "redis-blackhole-read");
                reader.setDaemon(true);
                reader.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    @Override
    public void stop() {
        if (origin != null) {
            origin.stop();
        }
        if (sentinel != null) {
            sentinel.close();
        }
        try {
            if (redis != null) {
                redis.stop();
            }
            if (relay != null) {
                relay.close();
                relay = null;
            }
            if (blackhole != null) {
                blackhole.close();
            }
            synchronized (held) {
                for (Socket socket : held) {
                    socket.close();
                }
            }
        } catch (IOException ignored) {
            // best effort at shutdown
        }
    }

    /** A redis-server on {@code port} of the loopback interface that keeps nothing on disk; not started yet. */
    public static RedisServer redisServer(int port) throws IOException {
        return RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                .setting("save \"\"").setting("appendonly no").build();
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
