package org.jmapauthproxy.e2e;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import org.jmapauthproxy.support.RealServers;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Points the proxy at the real Cyrus that {@code e2e/cyrus/start-cyrus.sh} started, and starts a real
 * redis-server (the binary shipped in embedded-redis) on a free loopback port for the sessions.
 *
 * <p>System properties: {@code cyrus.url} (default {@code http://127.0.0.1:18008}), {@code cyrus.dir}
 * (the script's {@code CYRUS_DIR}, default {@code /tmp/jmap-cyrus}) and {@code cyrus.jwt-key-file}
 * (default {@code <cyrus.dir>/etc/jwt/proxy-hs256.pem}). Init arg {@code auth=cyrus-jwt} switches the
 * proxy to minted bearer tokens signed with that key file.
 */
public final class CyrusOrigin implements QuarkusTestResourceLifecycleManager {

    /** Cyrus's delivery agent: hands a message to lmtpd over the socket named in imapd.conf. */
    static final String DELIVER = "/usr/lib/cyrus/bin/deliver";

    private RedisServer redis;
    private Map<String, String> args = Map.of();

    static String url() {
        return System.getProperty("cyrus.url", "http://127.0.0.1:18008");
    }

    static Path dir() {
        return Path.of(System.getProperty("cyrus.dir", "/tmp/jmap-cyrus"));
    }

    static Path jwtKeyFile() {
        return Path.of(System.getProperty("cyrus.jwt-key-file", dir().resolve("etc/jwt/proxy-hs256.pem").toString()));
    }

    @Override
    public void init(Map<String, String> initArgs) {
        this.args = initArgs;
    }

    @Override
    public Map<String, String> start() {
        requireCyrus();
        try {
            Map<String, String> config = new HashMap<>();
            int port = RealServers.freePort();
            redis = RealServers.redisServer(port);
            redis.start();
            config.put("quarkus.redis.hosts", "redis://127.0.0.1:" + port);
            config.put("authproxy.origin.url", url());
            // Cyrus works through a session document, a few mailboxes and MiB-sized blobs per test;
            // the %test profile's 3 s is tuned for the in-process origin, not a real mail store.
            config.put("authproxy.origin.timeout", "30s");
            if ("cyrus-jwt".equals(args.get("auth"))) {
                Path keyFile = jwtKeyFile();
                if (!Files.isReadable(keyFile)) {
                    throw new IllegalStateException("cannot read Cyrus's JWT key " + keyFile
                            + " (set -Dcyrus.jwt-key-file, or run the tests as root)");
                }
                config.put("authproxy.origin.auth", "cyrus-jwt");
                config.put("authproxy.origin.jwt-key-file", keyFile.toString());
                // Equal to http_jwt_max_age in the imapd.conf that start-cyrus.sh writes.
                config.put("authproxy.origin.jwt-max-age", "5m");
            }
            return config;
        } catch (IOException e) {
            stop();
            throw new IllegalStateException("cannot start Redis for the Cyrus end-to-end tests", e);
        }
    }

    @Override
    public void stop() {
        try {
            if (redis != null) {
                redis.stop();
            }
        } catch (IOException ignored) {
            // best effort at shutdown
        }
    }

    /** Fails early, with the fix in the message, when no Cyrus answers at {@link #url()}. */
    private static void requireCyrus() {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        try {
            int status = http.send(HttpRequest.newBuilder(URI.create(url() + "/.well-known/jmap"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
            // Unauthenticated, Cyrus answers 401 (or the redirect); anything else is not a Cyrus JMAP server.
            if (status != 401 && status != 301) {
                throw new IllegalStateException("no Cyrus JMAP server at " + url() + " (GET /.well-known/jmap answered "
                        + status + ")");
            }
        } catch (IOException e) {
            throw new IllegalStateException("no Cyrus at " + url() + ": start it with e2e/cyrus/start-cyrus.sh", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Delivers an RFC 5322 message into {@code user}'s INBOX through Cyrus's own LMTP delivery, the
     * way an MTA would, with envelope sender {@code from}.
     */
    static void deliver(String from, String user, String message) throws IOException, InterruptedException {
        Path conf = dir().resolve("etc/imapd.conf");
        Path file = Files.createTempFile("e2e-message", ".eml");
        try {
            Files.writeString(file, message, StandardCharsets.UTF_8);
            Process deliver = new ProcessBuilder(List.of(DELIVER, "-C", conf.toString(), "-f", from, user))
                    .redirectInput(file.toFile()).redirectErrorStream(true).start();
            byte[] output = deliver.getInputStream().readAllBytes();
            if (!deliver.waitFor(30, TimeUnit.SECONDS)) {
                deliver.destroyForcibly();
                throw new IOException("deliver did not finish within 30 s");
            }
            if (deliver.exitValue() != 0) {
                throw new IOException("deliver exited " + deliver.exitValue() + ": "
                        + new String(output, StandardCharsets.UTF_8).strip());
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
