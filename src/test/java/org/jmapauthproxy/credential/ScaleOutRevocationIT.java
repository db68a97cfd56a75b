package org.jmapauthproxy.credential;

import org.jmapauthproxy.support.Jwts;
import org.jmapauthproxy.support.PackagedJar;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.RedisCommands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The way the proxy scales out: two packaged proxies, each with its session cache and invalidation
 * feed, on one Redis. A session both have served from memory is deleted once in Redis; each refuses
 * it within the revocation bound R = 1 s. The test allows R plus 2 s of scheduling slack for a loaded
 * 2-core CI machine, and prints the windows it measured.
 */
class ScaleOutRevocationIT {

    /** The product's bound, and what a busy machine may add to the test's own polling. */
    static final long R_MILLIS = 1_000;
    static final long SLACK_MILLIS = 2_000;
    static final Pattern CACHE_HITS = Pattern.compile(
            "authproxy_session_cache_lookups_total\\{result=\"hit\"} ([0-9.E]+)");

    private final RealServers servers = new RealServers();
    private final List<Process> proxies = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stop() {
        proxies.forEach(Process::destroyForcibly);
        servers.stop();
    }

    @Test
    void aDeletedSessionIsRefusedByEveryInstanceWithinTheBound() throws Exception {
        Map<String, String> backends = servers.start();
        int redisPort = URI.create(backends.get("quarkus.redis.hosts")).getPort();
        String secret = "it-secret-it-secret-it-secret-it-secret-it-secret-it-secret-00000";
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        String sid = "sid-scale-out";
        String sealed = SealedCredential.seal(key, new byte[12], sid, "alice:pw".getBytes(StandardCharsets.UTF_8));
        assertEquals("+OK", RedisCommands.send(redisPort, "SET", sid, "{\"credentials\":\"" + sealed + "\"}"));
        String token = Jwts.hs512(Jwts.claims(sid, 600, null), secret);

        int[][] ports = new int[2][];
        for (int i = 0; i < 2; i++) {
            ports[i] = new int[] {RealServers.freePort(), RealServers.freePort()};
            ProcessBuilder builder = PackagedJar.builder(ports[i][0], ports[i][1], backends, "-Xmx128m", "-XX:+UseSerialGC");
            builder.environment().put("AUTHPROXY_JWT_SECRET", secret);
            builder.environment().put("AUTHPROXY_CREDENTIALS_KEY", Base64.getEncoder().encodeToString(key));
            builder.redirectErrorStream(true).redirectOutput(Path.of("target", "scale-out-it-" + i + ".log").toFile());
            proxies.add(builder.start());
        }
        for (int i = 0; i < 2; i++) {
            int management = ports[i][1];
            await(() -> status(URI.create("http://127.0.0.1:" + management + "/q/health/ready"), null) == 200,
                    "instance " + i + " never became ready");
        }
        for (int i = 0; i < 2; i++) {
            URI echo = URI.create("http://127.0.0.1:" + ports[i][0] + "/echo");
            URI metrics = URI.create("http://127.0.0.1:" + ports[i][1] + "/q/metrics");
            double before = cacheHits(metrics);
            // Served from memory once the feed has given the cache its lease.
            await(() -> status(echo, token) == 200 && cacheHits(metrics) > before,
                    "instance " + i + " never served the session from its cache");
        }

        assertEquals(":1", RedisCommands.send(redisPort, "DEL", sid));
        long deleted = System.nanoTime();
        long[] refusedAfter = new long[2];
        boolean[] refused = new boolean[2];
        long deadline = deleted + TimeUnit.MILLISECONDS.toNanos(R_MILLIS + SLACK_MILLIS);
        while (!(refused[0] && refused[1]) && System.nanoTime() < deadline) {
            for (int i = 0; i < 2; i++) {
                if (!refused[i]) {
                    int status = status(URI.create("http://127.0.0.1:" + ports[i][0] + "/echo"), token);
                    assertTrue(status == 200 || status == 401, "instance " + i + " answered " + status);
                    if (status == 401) {
                        refused[i] = true;
                        refusedAfter[i] = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - deleted);
                    }
                }
            }
        }
        System.out.printf("scale-out revocation: instance 0 refused after %d ms, instance 1 after %d ms%n",
                refusedAfter[0], refusedAfter[1]);
        assertTrue(refused[0] && refused[1], "a deleted session was still served by an instance "
                + (R_MILLIS + SLACK_MILLIS) + " ms after the DEL");
    }

    private double cacheHits(URI metrics) {
        try {
            String body = http.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Matcher hits = CACHE_HITS.matcher(body);
            return hits.find() ? Double.parseDouble(hits.group(1)) : 0;
        } catch (Exception e) {
            return -1;
        }
    }

    private int status(URI uri, String token) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try {
            return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private void await(java.util.function.BooleanSupplier condition, String failure) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline && proxies.stream().allMatch(Process::isAlive), failure);
            Thread.sleep(20);
        }
    }
}
