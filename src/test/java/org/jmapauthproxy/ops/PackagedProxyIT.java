package org.jmapauthproxy.ops;

import org.jmapauthproxy.credential.SealedCredential;
import org.jmapauthproxy.support.Jwts;
import org.jmapauthproxy.support.RealServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged proxy (the jar the image ships) run as its own process: bad configuration, JSON logs,
 * and SIGTERM.
 *
 * <p>SIGTERM on the packaged proxy (the jar the image ships, with its fixed heap), against a real Redis
 * and origin: readiness goes DOWN while requests are still served during the drain delay; after it
 * new requests get 503 while the request in flight finishes with its full answer, the open event stream is ended cleanly, and the
 * process exits. Secrets are given as files, the way a Kubernetes Secret volume provides them.
 */
class PackagedProxyIT {

    private final RealServers servers = new RealServers();
    private Process proxy;

    @AfterEach
    void tearDown() {
        if (proxy != null) {
            proxy.destroyForcibly();
        }
        servers.stop();
    }

    @Test
    void sigtermDrainsThenFinishesInFlightWorkAndExits() throws Exception {
        Map<String, String> backends = servers.start();
        String secret = "it-secret-it-secret-it-secret-it-secret-it-secret-it-secret-00000";
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path secrets = Files.createTempDirectory("secrets");
        Files.writeString(secrets.resolve("authproxy.jwt.secret"), secret);
        Files.writeString(secrets.resolve("authproxy.credentials.key"), Base64.getEncoder().encodeToString(key));

        int redisPort = URI.create(backends.get("quarkus.redis.hosts")).getPort();
        String sid = "sid-shutdown";
        String sealed = SealedCredential.seal(key, new byte[12], sid, "alice:pw".getBytes(StandardCharsets.UTF_8));
        resp(redisPort, "SET", sid, "{\"credentials\":\"" + sealed + "\"}");
        String token = Jwts.hs512(Jwts.claims(sid, 600, null), secret);

        int port = RealServers.freePort();
        int management = RealServers.freePort();
        ProcessBuilder builder = packagedJar(port, management, backends, "-Xmx128m", "-Xms128m", "-XX:+UseSerialGC");
        Map<String, String> env = builder.environment();
        env.put("AUTHPROXY_SECRETS_DIR", secrets.toString());
        env.put("QUARKUS_SHUTDOWN_DELAY", "2s");
        env.put("QUARKUS_SHUTDOWN_TIMEOUT", "10s");
        builder.redirectErrorStream(true).redirectOutput(Path.of("target", "graceful-shutdown-it.log").toFile());
        long launched = System.nanoTime();
        proxy = builder.start();

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        awaitReady(http, management);
        URI ready = URI.create("http://127.0.0.1:" + management + "/q/health/ready");
        System.out.printf("start to ready: %d ms%n", (System.nanoTime() - launched) / 1_000_000);

        String base = "http://127.0.0.1:" + port;
        CompletableFuture<HttpResponse<String>> inFlight = http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/slow/3500"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        Socket stream = new Socket("127.0.0.1", port);
        stream.setSoTimeout(20_000);
        stream.getOutputStream().write(("GET /jmap/eventsource/?types=* HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                + "Authorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream events = stream.getInputStream();
        Thread.sleep(300);

        proxy.destroy(); // SIGTERM
        long sigterm = System.nanoTime();

        // Drain delay: readiness DOWN, yet new requests are still answered normally.
        long deadline = System.currentTimeMillis() + 1_500;
        while (status(http, ready) != 503) {
            assertTrue(System.currentTimeMillis() < deadline, "readiness did not go DOWN after SIGTERM");
            Thread.sleep(20);
        }
        HttpResponse<String> during = http.send(HttpRequest.newBuilder(URI.create(base + "/echo"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, during.statusCode(), "requests during the drain delay are still served");
        assertEquals("close", during.headers().firstValue("Connection").orElse(null),
                "during the drain delay HTTP/1.1 clients are sent elsewhere after each response");

        // The event stream is ended cleanly (final chunk), not reset.
        byte[] rest = readThroughLastChunk(events);
        String tail = new String(rest, StandardCharsets.US_ASCII);
        assertTrue(tail.endsWith("0\r\n\r\n"), "event stream not ended with its last chunk: ..." + tail.substring(Math.max(0, tail.length() - 80)));
        stream.close();

        // After the delay, while the request in flight is still running: new requests get 503.
        HttpResponse<String> refused = null;
        while (!inFlight.isDone()) {
            HttpResponse<String> late = http.send(HttpRequest.newBuilder(URI.create(base + "/echo"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            if (late.statusCode() != 200) {
                refused = late;
                break;
            }
            Thread.sleep(50);
        }
        assertTrue(refused != null, "no request was refused while the last one drained");
        assertEquals(503, refused.statusCode());
        assertTrue(refused.body().contains("\"reason\":\"shutting_down\""), refused.body());
        assertEquals("5", refused.headers().firstValue("Retry-After").orElseThrow());

        HttpResponse<String> finished = inFlight.get(15, TimeUnit.SECONDS);
        assertEquals(200, finished.statusCode(), "the request in flight was cut");
        assertEquals("late", finished.body());

        assertTrue(proxy.waitFor(15, TimeUnit.SECONDS), "proxy did not exit");
        long exitMillis = (System.nanoTime() - sigterm) / 1_000_000;
        System.out.printf("SIGTERM to exit: %d ms, exit code %d%n", exitMillis, proxy.exitValue());
        assertTrue(exitMillis < 10_000, "exit took " + exitMillis + " ms");
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            throw new AssertionError("port still accepting after exit");
        } catch (ConnectException expected) {
            // closed
        }
    }

    @Test
    void jsonLogSwitchWritesAccessLinesAsJsonWithoutTheToken() throws Exception {
        Map<String, String> backends = servers.start();
        int port = RealServers.freePort();
        int management = RealServers.freePort();
        ProcessBuilder builder = packagedJar(port, management, backends);
        Map<String, String> env = builder.environment();
        env.put("AUTHPROXY_JWT_SECRET", "j".repeat(64));
        env.put("AUTHPROXY_CREDENTIALS_KEY", Base64.getEncoder().encodeToString(new byte[32]));
        env.put("QUARKUS_LOG_CONSOLE_JSON_ENABLED", "true");
        env.put("QUARKUS_SHUTDOWN_DELAY", "0s");
        Path log = Path.of("target", "json-log-it.log");
        builder.redirectErrorStream(true).redirectOutput(log.toFile());
        proxy = builder.start();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        awaitReady(http, management);
        String forged = Jwts.hs512(Jwts.claims("sid-json", 600, null), "not-the-secret-" + "x".repeat(60));
        HttpResponse<String> denied = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jmap/"))
                .header("Authorization", "Bearer " + forged).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, denied.statusCode());
        proxy.destroy();
        assertTrue(proxy.waitFor(15, TimeUnit.SECONDS));
        String accessLine = Files.readAllLines(log).stream()
                .filter(line -> line.contains("\"loggerName\":\"authproxy.access\"")).findFirst()
                .orElseThrow(() -> new AssertionError("no JSON access line in " + log));
        assertTrue(accessLine.startsWith("{") && accessLine.contains("outcome=invalid_token"), accessLine);
        assertTrue(!accessLine.contains(forged.substring(20)), "token in the access line");
    }

    @Test
    void startWithoutConfigurationExitsNonZeroListingEveryProblem() throws Exception {
        ProcessBuilder builder = packagedJar(RealServers.freePort(), RealServers.freePort(), Map.of());
        builder.environment().put("AUTHPROXY_JWT_SECRET", "short-secret-value");
        String output = outputOfFailedStart(builder);
        for (String problem : List.of("authproxy.jwt.secret is 18 bytes", "authproxy.credentials.key is missing",
                "authproxy.origin.url is missing")) {
            assertTrue(output.contains(problem), problem + " not reported in:\n" + output);
        }
        assertTrue(!output.contains("short-secret-value"), "the secret's value was printed");
    }

    @Test
    void bothListenersOnOnePortIsRefusedAtStart() throws Exception {
        ProcessBuilder builder = packagedJar(RealServers.freePort(), RealServers.freePort(),
                Map.of("authproxy.origin.url", "http://127.0.0.1:1"));
        builder.environment().put("AUTHPROXY_JWT_SECRET", "it-secret-it-secret-it-secret-it-secret-it-secret-it-secret-00000");
        builder.environment().put("AUTHPROXY_CREDENTIALS_KEY", Base64.getEncoder().encodeToString(new byte[32]));
        builder.environment().put("QUARKUS_HTTP_HOST_ENABLED", "true");
        String output = outputOfFailedStart(builder);
        assertTrue(output.contains("authproxy.http.direct=true needs quarkus.http.host-enabled=false"), output);
    }

    /** Starts the process, which must exit on its own with a non-zero code; returns what it printed. */
    private String outputOfFailedStart(ProcessBuilder builder) throws Exception {
        builder.redirectErrorStream(true);
        proxy = builder.start();
        String output = new String(proxy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(proxy.waitFor(30, TimeUnit.SECONDS), "the proxy did not exit");
        assertTrue(proxy.exitValue() != 0, "exit code " + proxy.exitValue() + ", output:\n" + output);
        return output;
    }

    /** The packaged jar with the JVM options given, on loopback ports, with Redis and the origin set when known. */
    private static ProcessBuilder packagedJar(int port, int management, Map<String, String> backends, String... jvm) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvm));
        command.addAll(List.of("-jar", Path.of("target", "quarkus-app", "quarkus-run.jar").toString()));
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        env.put("QUARKUS_MANAGEMENT_HOST", "127.0.0.1");
        env.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(management));
        env.put("QUARKUS_REDIS_HOSTS", backends.getOrDefault("quarkus.redis.hosts", "redis://127.0.0.1:1"));
        if (backends.containsKey("authproxy.origin.url")) {
            env.put("AUTHPROXY_ORIGIN_URL", backends.get("authproxy.origin.url"));
        }
        return builder;
    }

    private void awaitReady(HttpClient http, int management) throws InterruptedException {
        URI ready = URI.create("http://127.0.0.1:" + management + "/q/health/ready");
        long deadline = System.currentTimeMillis() + 30_000;
        while (status(http, ready) != 200) {
            assertTrue(System.currentTimeMillis() < deadline && proxy.isAlive(), "proxy did not become ready");
            Thread.sleep(25);
        }
    }

    private static int status(HttpClient http, URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(java.time.Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    /** Reads a chunked response until its terminating chunk (the connection itself may stay open) or EOF. */
    private static byte[] readThroughLastChunk(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            all.write(buffer, 0, n);
            if (all.toString(StandardCharsets.US_ASCII).endsWith("\r\n0\r\n\r\n")) {
                break;
            }
        }
        return all.toByteArray();
    }

    /** One RESP command on a fresh connection (enough to seed a session). */
    private static void resp(int port, String... args) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            StringBuilder command = new StringBuilder("*").append(args.length).append("\r\n");
            for (String arg : args) {
                byte[] bytes = arg.getBytes(StandardCharsets.UTF_8);
                command.append('$').append(bytes.length).append("\r\n").append(arg).append("\r\n");
            }
            OutputStream out = socket.getOutputStream();
            out.write(command.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            int first = socket.getInputStream().read();
            assertEquals('+', first, "redis refused the SET");
        }
    }
}
