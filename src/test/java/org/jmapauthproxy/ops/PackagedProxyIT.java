package org.jmapauthproxy.ops;

import org.jmapauthproxy.credential.SealedCredential;
import org.jmapauthproxy.support.Jwts;
import org.jmapauthproxy.support.PackagedJar;
import org.jmapauthproxy.support.RealServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
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
    /** What the test wrote to disk (secrets among it): removed after every test. */
    private final List<Path> written = new ArrayList<>();

    @AfterEach
    void tearDown() throws IOException {
        try {
            if (proxy != null) {
                proxy.destroyForcibly();
            }
            servers.stop();
        } finally {
            for (Path path : written) {
                deleteTree(path);
            }
        }
    }

    @Test
    void sigtermDrainsThenFinishesInFlightWorkAndExits() throws Exception {
        Map<String, String> backends = servers.start();
        String secret = "it-secret-it-secret-it-secret-it-secret-it-secret-it-secret-00000";
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path secrets = Files.createTempDirectory("secrets");
        written.add(secrets);
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
        // The delay leaves room for one request served during it on a busy machine; the timeout is far
        // longer than the test needs, so an exit that waited for it is told apart from one that did not.
        env.put("QUARKUS_SHUTDOWN_DELAY", "5s");
        env.put("QUARKUS_SHUTDOWN_TIMEOUT", "30s");
        builder.redirectErrorStream(true).redirectOutput(Path.of("target", "graceful-shutdown-it.log").toFile());
        long launched = System.nanoTime();
        proxy = builder.start();

        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        awaitReady(http, management);
        URI ready = URI.create("http://127.0.0.1:" + management + "/q/health/ready");
        System.out.printf("start to ready: %d ms%n", (System.nanoTime() - launched) / 1_000_000);

        String base = "http://127.0.0.1:" + port;
        // The request in flight is an upload whose end the test holds back: it stays in flight until
        // the test has seen new requests refused, however slow the machine.
        Socket upload = new Socket("127.0.0.1", port);
        upload.setSoTimeout(60_000);
        OutputStream uploadOut = upload.getOutputStream();
        uploadOut.write(("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n"
                + "Authorization: Bearer " + token + "\r\n\r\n12345").getBytes(StandardCharsets.US_ASCII));
        uploadOut.flush();
        Socket stream = new Socket("127.0.0.1", port);
        stream.setSoTimeout(60_000);
        stream.getOutputStream().write(("GET /jmap/eventsource/?types=* HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                + "Authorization: Bearer " + token + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream events = stream.getInputStream();
        String streamHead = readHead(events);
        assertTrue(streamHead.startsWith("HTTP/1.1 200"), streamHead);
        URI metrics = URI.create("http://127.0.0.1:" + management + "/q/metrics");
        awaitCondition(() -> body(http, metrics).contains("authproxy_origin_requests_active{pool=\"requests\"} 1.0"),
                "the upload never reached the origin");

        proxy.destroy(); // SIGTERM
        long sigterm = System.nanoTime();

        // Drain delay: readiness DOWN, yet new requests are still answered normally.
        awaitCondition(() -> status(http, ready) == 503, "readiness did not go DOWN after SIGTERM");
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

        // After the delay (streams are ended just before it ends), while the upload is still in
        // flight: new requests get 503.
        HttpResponse<String> refused = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (refused == null) {
            assertTrue(System.nanoTime() < deadline && proxy.isAlive(), "no request was refused while the last one drained");
            HttpResponse<String> late = http.send(HttpRequest.newBuilder(URI.create(base + "/echo"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            if (late.statusCode() != 200) {
                refused = late;
            }
        }
        assertEquals(503, refused.statusCode());
        assertTrue(refused.body().contains("\"reason\":\"shutting_down\""), refused.body());
        assertEquals("5", refused.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(proxy.isAlive(), "the proxy exited with a request in flight");

        uploadOut.write("67890".getBytes(StandardCharsets.US_ASCII));
        uploadOut.flush();
        String finished = new String(upload.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        upload.close();
        assertTrue(finished.startsWith("HTTP/1.1 200"), "the request in flight was cut: " + finished);
        assertTrue(finished.contains("\"bodyLength\":10"), "the origin did not get the whole upload: " + finished);
        long finishedAt = System.nanoTime();

        // Once nothing is in flight the proxy exits, without waiting for the shutdown timeout (30 s).
        assertTrue(proxy.waitFor(20, TimeUnit.SECONDS), "proxy did not exit once the last request was done");
        long exitMillis = (System.nanoTime() - sigterm) / 1_000_000;
        System.out.printf("SIGTERM to exit: %d ms (%d ms after the last request), exit code %d%n", exitMillis,
                (System.nanoTime() - finishedAt) / 1_000_000, proxy.exitValue());
        try (Socket ignored = new Socket("127.0.0.1", port)) {
            throw new AssertionError("port still accepting after exit");
        } catch (ConnectException expected) {
            // closed
        }
        // The packaged settings apply although the jar carries no application.properties (Quarkus
        // recorded them at build time): plain-text log lines, where the JSON logging extension alone
        // would write JSON.
        String started = Files.readAllLines(Path.of("target", "graceful-shutdown-it.log")).stream()
                .filter(line -> line.contains("proxy listening on")).findFirst()
                .orElseThrow(() -> new AssertionError("no start line in target/graceful-shutdown-it.log"));
        assertTrue(!started.startsWith("{") && started.contains(" INFO "), started);
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
        // Switched on by a file in the secrets directory, which overrides the packaged setting too.
        Path settings = Files.createTempDirectory("settings");
        written.add(settings);
        Files.writeString(settings.resolve("quarkus.log.console.json.enabled"), "true");
        env.put("AUTHPROXY_SECRETS_DIR", settings.toString());
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
        builder.environment().remove("QUARKUS_REDIS_HOSTS");
        String output = outputOfFailedStart(builder);
        for (String problem : List.of("quarkus.redis.hosts is not set", "authproxy.jwt.secret is 18 bytes",
                "authproxy.credentials.key is missing", "authproxy.origin.url is missing")) {
            assertTrue(output.contains(problem), problem + " not reported in:\n" + output);
        }
        assertTrue(!output.contains("short-secret-value"), "the secret's value was printed");
    }

    @Test
    void quarkusListenerOnTheProxyPortIsRefusedWithTheOtherProblems() throws Exception {
        ProcessBuilder builder = packagedJar(RealServers.freePort(), RealServers.freePort(),
                Map.of("authproxy.origin.url", "http://127.0.0.1:1"));
        builder.environment().put("AUTHPROXY_JWT_SECRET", "it-secret-it-secret-it-secret-it-secret-it-secret-it-secret-00000");
        builder.environment().put("QUARKUS_HTTP_HOST_ENABLED", "true");
        String output = outputOfFailedStart(builder);
        assertTrue(output.contains("quarkus.http.host-enabled must be false"), output);
        assertTrue(output.contains("authproxy.credentials.key is missing"), "reported in the same list:\n" + output);
    }

    @Test
    void takenProxyPortIsNamedOnStandardErrorAtEveryStart() throws Exception {
        // Redis is unreachable too (redis://127.0.0.1:1): the port must still be what is reported.
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            String expected = "jmap-auth-proxy cannot start: cannot open the proxy port 127.0.0.1:" + port
                    + " (quarkus.http.host/quarkus.http.port): Address already in use";
            for (int start = 1; start <= 5; start++) {
                ProcessBuilder builder = packagedJar(port, RealServers.freePort(),
                        Map.of("authproxy.origin.url", "http://127.0.0.1:1"));
                builder.environment().put("AUTHPROXY_JWT_SECRET", "p".repeat(64));
                builder.environment().put("AUTHPROXY_CREDENTIALS_KEY", Base64.getEncoder().encodeToString(new byte[32]));
                builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
                proxy = builder.start();
                String stderr = new String(proxy.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(proxy.waitFor(30, TimeUnit.SECONDS), "the proxy did not exit");
                assertTrue(proxy.exitValue() != 0, "exit code " + proxy.exitValue());
                assertTrue(stderr.contains(expected), "start " + start + ": no message naming the port on stderr:\n" + stderr);
            }
        }
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

    private static ProcessBuilder packagedJar(int port, int management, Map<String, String> backends, String... jvm) {
        return PackagedJar.builder(port, management, backends, jvm);
    }

    /** Polls {@code condition} until it holds; fails when the proxy exits or after a minute. */
    private void awaitCondition(java.util.function.BooleanSupplier condition, String failure) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline && proxy.isAlive(), failure);
            Thread.sleep(20);
        }
    }

    private static String body(HttpClient http, URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).timeout(java.time.Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }

    /** Reads a response head, through its empty line. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (head.length() < 4 || !head.substring(head.length() - 4).equals("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (var paths = Files.walk(root)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
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
            String read = all.toString(StandardCharsets.US_ASCII);
            if (read.endsWith("\r\n0\r\n\r\n") || read.equals("0\r\n\r\n")) {
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
