package org.jmapauthproxy.ops;

import io.prometheus.client.exemplars.ExemplarSampler;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.TeeStream;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Probes and metrics on the management port, and the access log. */
@QuarkusTest
@WithTestResource(RealServers.class)
class OpsTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @Inject
    AccessLog accessLog;

    @Inject
    Optional<ExemplarSampler> exemplarSampler;

    @TestHTTPResource(value = "health/ready", management = true)
    URL ready;

    @TestHTTPResource(value = "metrics", management = true)
    URL metrics;

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    HttpResponse<String> get(URL url) throws Exception {
        return http.send(HttpRequest.newBuilder(url.toURI()).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String url, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void probesAreUpOnTheManagementPortOnly() throws Exception {
        assertTrue(ready.getPort() != base.getPort(), "management interface must have its own port " + ready);
        for (String probe : List.of("live", "ready", "started")) {
            HttpResponse<String> response = get(new URL(ready, "/q/health/" + probe));
            assertEquals(200, response.statusCode(), probe + " " + ready);
            assertEquals("UP", new JsonObject(response.body()).getString("status"), probe);
        }
        JsonObject readiness = new JsonObject(get(ready).body());
        assertTrue(readiness.encode().contains("session-store"), readiness.encode());
        assertTrue(readiness.encode().contains("\"origin\""), readiness.encode());
        // On the main port the same paths are proxied like anything else: no token, no health.
        HttpResponse<String> main = get(new URL(base, "/q/health/ready"));
        assertEquals(401, main.statusCode());
    }

    @Test
    void registryHasNoExemplarSamplerToLookForSpansOnEveryUpdate() {
        // Quarkus's would be present; it never found a span, as the proxy does not make its spans current.
        assertTrue(exemplarSampler.isEmpty(), "exemplar sampler " + exemplarSampler);
    }

    @Test
    void metricsCountOutcomesAndTimeLookupsWithoutIdentifiers() throws Exception {
        Sessions sessions = new Sessions(redis);
        String sid = Sessions.newSid();
        String token = sessions.create(sid, "alice:pw");
        assertEquals(200, get(base + "echo?secret=query", token).statusCode());
        assertEquals(401, get(base + "echo", "x.y.z").statusCode());
        String body = get(metrics).body();
        assertTrue(body.contains("authproxy_requests_seconds_count{outcome=\"proxied\",status_class=\"2xx\"}"), body);
        assertTrue(body.contains("authproxy_requests_seconds_count{outcome=\"invalid_token\",status_class=\"4xx\"}"));
        assertTrue(body.contains("authproxy_requests_seconds_bucket{outcome=\"proxied\""), "latency histogram");
        assertTrue(body.contains("authproxy_credential_lookup_seconds_count"));
        assertTrue(body.contains("authproxy_origin_first_byte_seconds_count"));
        assertTrue(body.contains("authproxy_event_streams_open"));
        assertTrue(body.contains("authproxy_websockets_open"));
        assertTrue(body.contains("authproxy_store_errors_total"));
        assertTrue(body.contains("authproxy_origin_requests_active{pool=\"requests\"}"), "origin pool usage");
        long deadline = System.currentTimeMillis() + 5_000;
        while (!body.contains("authproxy_session_cache_feed_connected 1.0") && System.currentTimeMillis() < deadline) {
            Thread.sleep(50); // the feed connects asynchronously after start-up
            body = get(metrics).body();
        }
        assertTrue(body.contains("authproxy_session_cache_feed_connected 1.0"), "invalidation feed connected");
        double hitsBefore = metric(body, "authproxy_session_cache_lookups_total{result=\"hit\"}");
        for (int i = 0; i < 5; i++) {
            assertEquals(200, get(base + "echo", token).statusCode());
        }
        String after = get(metrics).body();
        double hitsAfter = metric(after, "authproxy_session_cache_lookups_total{result=\"hit\"}");
        assertTrue(hitsAfter >= hitsBefore + 5, "repeated requests of one session are served from the cache");
        assertTrue(metric(after, "authproxy_session_cache_entries") >= 1, "the session is counted among the remembered");
        assertTrue(metric(after, "authproxy_session_cache_evictions_total") >= 0, "evictions are counted");
        assertTrue(body.contains("authproxy_origin_requests_active{pool=\"streams\"}"));
        assertFalse(body.contains(sid), "no session id in metrics");
        assertFalse(body.contains("alice"), "no user in metrics");
        assertFalse(body.contains("/echo"), "no path in metrics");
    }

    @Test
    void invalidationFeedReconnectsAfterRedisDropsItAndRevocationStaysPrompt() throws Exception {
        Sessions sessions = new Sessions(redis);
        String sid = Sessions.newSid();
        String token = sessions.create(sid, "alice:pw");
        awaitFeed(true);
        redis.execute("CLIENT", "KILL", "TYPE", "pubsub");
        awaitFeed(true);
        for (int i = 0; i < 3; i++) {
            assertEquals(200, get(base + "echo", token).statusCode());
        }
        sessions.delete(sid);
        long start = System.nanoTime();
        while (get(base + "echo", token).statusCode() != 401) {
            assertTrue(System.nanoTime() - start < 1_000_000_000L, "deleted session still accepted after 1 s");
            Thread.sleep(5);
        }
    }

    void awaitFeed(boolean connected) throws Exception {
        String expected = "authproxy_session_cache_feed_connected " + (connected ? "1.0" : "0.0");
        long deadline = System.currentTimeMillis() + 10_000;
        while (!get(metrics).body().contains(expected)) {
            assertTrue(System.currentTimeMillis() < deadline, "feed never reached " + expected);
            Thread.sleep(50);
        }
    }

    static double metric(String body, String name) {
        for (String line : body.split("\n")) {
            if (line.startsWith(name + " ")) {
                return Double.parseDouble(line.substring(name.length() + 1).trim());
            }
        }
        throw new AssertionError(name + " not found");
    }

    @Test
    void accessLogHasOneLinePerRequestWithoutSecrets() throws Exception {
        // The access lines go to standard output in batches (AccessLog); capture what reaches it.
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeStream(original, captured), true, StandardCharsets.UTF_8));
        try {
            Sessions sessions = new Sessions(redis);
            String token = sessions.create(Sessions.newSid(), "alice:hunter2");
            HttpResponse<String> ok = get(base + "echo/path?q=private", token);
            HttpResponse<String> denied = get(base + "echo/other", token + "x");
            String okId = ok.headers().firstValue("X-Request-Id").orElseThrow();
            String deniedId = denied.headers().firstValue("X-Request-Id").orElseThrow();
            long deadline = System.currentTimeMillis() + 2_000;
            List<String> lines = List.of();
            while (System.currentTimeMillis() < deadline) {
                accessLog.flush();
                lines = captured.toString(StandardCharsets.UTF_8).lines()
                        .filter(l -> l.contains("[authproxy.access]")).toList();
                if (lines.stream().anyMatch(l -> l.contains(okId)) && lines.stream().anyMatch(l -> l.contains(deniedId))) {
                    break;
                }
                Thread.sleep(20);
            }
            String okLine = lines.stream().filter(l -> l.contains(okId)).findFirst().orElseThrow();
            assertTrue(okLine.matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3} INFO  \\[authproxy.access\\] "
                    + "GET /echo/path status=200 duration_ms=\\d+\\.\\d bytes=[1-9][0-9]* outcome=proxied request_id=" + okId), okLine);
            String deniedLine = lines.stream().filter(l -> l.contains(deniedId)).findFirst().orElseThrow();
            assertTrue(deniedLine.contains("status=401") && deniedLine.contains("outcome=invalid_token"), deniedLine);
            // Tracing is off by default: no trace id anywhere, no traceparent of the proxy's own.
            assertFalse(new JsonObject(denied.body()).containsKey("traceId"), denied.body());
            assertFalse(deniedLine.contains("trace_id"), deniedLine);
            assertFalse(new JsonObject(ok.body()).getJsonObject("headers").containsKey("traceparent"), ok.body());
            assertEquals(1, lines.stream().filter(l -> l.contains(okId)).count(), "one line per request");
            for (String line : lines) {
                assertFalse(line.contains(token.substring(20, 60)), "token in access log");
                assertFalse(line.contains("hunter2"), "password in access log");
                assertFalse(line.contains("private"), "query in access log");
                assertFalse(line.contains("alice"), "user in access log although authproxy.log.user=false");
            }
        } finally {
            System.setOut(original);
        }
    }
}
