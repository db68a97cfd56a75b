package org.jmapauthproxy.ops;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.exchange.Tracing;
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
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tracing switched on with the standard setting ({@code quarkus.otel.sdk.disabled=false}), spans
 * caught by the SDK's in-memory exporter: real requests through the proxy to the real test origin.
 */
@QuarkusTest
@TestProfile(TracingTest.TracingOn.class)
@WithTestResource(RealServers.class)
class TracingTest {

    public static class TracingOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // A short batch delay only makes the spans arrive sooner; the test waits for them anyway.
            return Map.of("quarkus.otel.sdk.disabled", "false", "quarkus.otel.bsp.schedule.delay", "20ms");
        }
    }

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @Inject
    InMemorySpanExporter spans;

    @Inject
    AccessLog accessLog;

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void proxiedRequestHasOneTraceWithTokenLookupAndOriginSpansUnderTheRequestSpan() throws Exception {
        String sid = Sessions.newSid();
        String token = new Sessions(redis).create(sid, "alice:hunter2");
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "echo/traced?q=private"))
                        .header("Cookie", "Authorization=" + token + "; theme=cookievalue-7").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        String traceparent = new JsonObject(response.body()).getJsonObject("headers").getJsonArray("traceparent")
                .getString(0);
        String[] parts = traceparent.split("-");
        assertEquals(4, parts.length, traceparent);
        String traceId = parts[1];

        List<SpanData> trace = awaitTrace(traceId, t -> t.size() >= 4);
        SpanData request = only(trace, Tracing.REQUEST);
        SpanData verify = only(trace, Tracing.TOKEN);
        SpanData lookup = only(trace, Tracing.LOOKUP);
        SpanData origin = only(trace, Tracing.ORIGIN);
        assertEquals(4, trace.size(), "one span per step: " + names(trace));
        assertEquals(SpanKind.SERVER, request.getKind());
        assertFalse(request.getParentSpanContext().isValid(), "the request span is the trace's root");
        for (SpanData child : List.of(verify, lookup, origin)) {
            assertEquals(request.getSpanId(), child.getParentSpanId(), child.getName() + " under the request span");
        }
        assertEquals(SpanKind.CLIENT, origin.getKind());
        assertEquals(origin.getSpanId(), parts[2], "the origin's traceparent names the origin span as parent");
        assertEquals("GET", request.getAttributes().get(Tracing.METHOD));
        assertEquals("/echo/traced", request.getAttributes().get(Tracing.PATH));
        assertEquals(200L, request.getAttributes().get(Tracing.STATUS));
        assertEquals("proxied", request.getAttributes().get(Tracing.OUTCOME));
        assertEquals(200L, origin.getAttributes().get(Tracing.STATUS));
        assertTrue(origin.getEvents().stream().anyMatch(e -> e.getName().equals("first byte")), "first byte event");
        assertTrue(origin.getEndEpochNanos() <= request.getEndEpochNanos(), "origin body ends before the request");
        assertEquals(StatusCode.UNSET, lookup.getStatus().getStatusCode());

        assertNoSecrets(trace, token, sid, "hunter2", "cookievalue-7", "private", "alice");
    }

    @Test
    void refusalCarriesTheTraceIdInItsProblemBodyAndAccessLine() throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(new TeeStream(original, captured), true, StandardCharsets.UTF_8));
        try {
            HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(base + "echo/refused")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, refused.statusCode());
            JsonObject problem = new JsonObject(refused.body());
            String traceId = problem.getString("traceId");
            assertNotNull(traceId, refused.body());
            assertTrue(traceId.matches("[0-9a-f]{32}"), traceId);
            String requestId = problem.getString("requestId");

            List<SpanData> trace = awaitTrace(traceId, t -> t.size() >= 2);
            SpanData request = only(trace, Tracing.REQUEST);
            SpanData verify = only(trace, Tracing.TOKEN);
            assertEquals(2, trace.size(), "no lookup, no origin: " + names(trace));
            assertEquals(request.getSpanId(), verify.getParentSpanId());
            assertEquals("no_token", verify.getAttributes().get(Tracing.OUTCOME));
            assertEquals(StatusCode.ERROR, verify.getStatus().getStatusCode());
            assertEquals(401L, request.getAttributes().get(Tracing.STATUS));
            assertEquals("no_token", request.getAttributes().get(Tracing.OUTCOME));

            String line = awaitAccessLine(captured, requestId);
            assertTrue(line.endsWith("outcome=no_token request_id=" + requestId + " trace_id=" + traceId), line);
        } finally {
            System.setOut(original);
        }
    }

    @Test
    void badTokenAndUnknownSessionEndTheirStepsWithTheReason() throws Exception {
        String sid = Sessions.newSid();
        Sessions sessions = new Sessions(redis);
        String unknown = sessions.token(sid, System.currentTimeMillis() / 1000 + 300);
        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(base + "echo/unknown"))
                .header("Authorization", "Bearer " + unknown).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, refused.statusCode());
        String traceId = new JsonObject(refused.body()).getString("traceId");
        List<SpanData> trace = awaitTrace(traceId, t -> t.size() >= 3);
        SpanData lookup = only(trace, Tracing.LOOKUP);
        assertEquals("unknown_session", lookup.getAttributes().get(Tracing.OUTCOME));
        assertEquals(only(trace, Tracing.REQUEST).getSpanId(), lookup.getParentSpanId());
        assertEquals(StatusCode.UNSET, only(trace, Tracing.TOKEN).getStatus().getStatusCode());
        assertNoSecrets(trace, unknown, sid);
    }

    private List<SpanData> awaitTrace(String traceId, Predicate<List<SpanData>> complete) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<SpanData> trace = List.of();
        while (System.nanoTime() < deadline) {
            trace = spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(traceId)).toList();
            if (complete.test(trace) && trace.stream().anyMatch(s -> s.getName().equals(Tracing.REQUEST))) {
                return trace;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("trace " + traceId + " incomplete: " + names(trace));
    }

    private String awaitAccessLine(ByteArrayOutputStream captured, String requestId) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            accessLog.flush();
            var line = captured.toString(StandardCharsets.UTF_8).lines()
                    .filter(l -> l.contains("[authproxy.access]") && l.contains(requestId)).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no access line for " + requestId);
    }

    private static SpanData only(List<SpanData> trace, String name) {
        List<SpanData> named = trace.stream().filter(s -> s.getName().equals(name)).toList();
        assertEquals(1, named.size(), name + " in " + names(trace));
        return named.get(0);
    }

    private static List<String> names(List<SpanData> trace) {
        return trace.stream().map(SpanData::getName).toList();
    }

    /** No secret (nor the query, nor the user with authproxy.log.user off) in any span name, attribute or event. */
    private static void assertNoSecrets(List<SpanData> trace, String... secrets) {
        for (SpanData span : trace) {
            StringBuilder all = new StringBuilder(span.getName());
            span.getAttributes().forEach((AttributeKey<?> key, Object value) -> all.append(' ').append(key.getKey())
                    .append('=').append(value));
            span.getEvents().forEach(e -> all.append(' ').append(e.getName()).append(e.getAttributes()));
            all.append(' ').append(span.getStatus().getDescription());
            for (String secret : secrets) {
                assertFalse(all.toString().contains(secret), span.getName() + " holds a secret: " + all);
            }
        }
    }
}
