package org.jmapauthproxy.route;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ErrorLines;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The front door attacked over raw sockets: each hostile head, slow client and oversized body gets
 * its status and problem document, the connection is closed where the framing is in doubt, and the
 * origin's own log shows what got through (nothing, or one whole well-formed request). Small
 * deadlines keep it short; assertions on them allow a loaded machine many times the deadline.
 */
@QuarkusTest
@TestProfile(FrontDoorTest.SmallLimits.class)
@WithTestResource(RealServers.class)
@Timeout(120)
class FrontDoorTest {

    public static class SmallLimits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of(
                    "authproxy.http.keep-alive-timeout", "1s",
                    "authproxy.http.request-header-timeout", "1s",
                    "authproxy.http.body-timeout", "1s",
                    "authproxy.max-upload-size", "1M");
        }
    }

    /** Generous bound for "the proxy reacted to a 1 s deadline": a busy CI machine stays far below it. */
    static final int PATIENCE_MILLIS = 15_000;

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    static ErrorLines errors;
    String token;
    String host;

    @BeforeAll
    static void watchErrors() {
        errors = ErrorLines.install();
    }

    @AfterAll
    static void noErrorLine() {
        errors.close();
        assertEquals(java.util.List.of(), errors.lines(), "a client's request produced an ERROR line");
    }

    @BeforeEach
    void setUp() throws Exception {
        token = new Sessions(redis).create(Sessions.newSid(), "alice:pw");
        host = "127.0.0.1:" + base.getPort();
        originLog(true);
    }

    @AfterEach
    void proxyStillServes() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("GET /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            assertEquals(200, http.read().status());
        }
    }

    /** What reached the origin since the last clear (the origin-log request itself is not counted). */
    JsonArray originLog(boolean clear) throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("GET /origin-log" + (clear ? "?clear" : "") + " HTTP/1.1\r\nHost: " + host
                    + "\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response response = http.read();
            assertEquals(200, response.status());
            return new JsonArray(response.text());
        }
    }

    static void assertProblem(RawHttp.Response response, int status, String reason) {
        assertEquals(status, response.status(), response.text());
        assertEquals("application/problem+json", response.first("content-type"));
        JsonObject problem = new JsonObject(response.text());
        assertEquals(status, problem.getInteger("status"));
        assertEquals(reason, problem.getString("reason"));
        assertEquals(response.first("x-request-id"), problem.getString("requestId"));
        assertFalse(response.text().contains("Exception"));
    }

    /** Sends {@code bytes}, expects one refusal, then the end of the connection; nothing reached the origin. */
    void refusedAndClosed(String bytes, int status, String reason) throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send(bytes.getBytes(StandardCharsets.ISO_8859_1));
            RawHttp.Response response = http.read();
            assertProblem(response, status, reason);
            assertEquals("close", response.first("connection"));
            assertTrue(http.closedByServer(PATIENCE_MILLIS), "connection left open after a refusal");
        }
        assertEquals(new JsonArray(), originLog(false), "a refused request reached the origin");
    }

    String smuggled() {
        return "GET /smuggled HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    }

    @ParameterizedTest
    @ValueSource(strings = {"xchunked", "chunked, identity", "identity", "gzip, chunked", "chunked\r\nTransfer-Encoding: chunked",
            "chunked\r\nContent-Length: 5", "xchunked\r\nContent-Length: 5", "\"chunked\""})
    void transferEncodingOtherThanChunkedIsRefusedAndNothingIsSmuggled(String coding) throws Exception {
        refusedAndClosed("POST /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token
                + "\r\nTransfer-Encoding: " + coding + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + smuggled(), 400, "bad_request");
    }

    @Test
    void transferEncodingOnHttp10IsRefused() throws Exception {
        refusedAndClosed("POST /echo HTTP/1.0\r\nHost: " + host + "\r\nAuthorization: Bearer " + token
                + "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" + smuggled(), 400, "bad_request");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Content-Length", "close, content-length", "Transfer-Encoding", "Host"})
    void connectionNamingAFramingHeaderIsRefused(String named) throws Exception {
        refusedAndClosed("POST /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token
                + "\r\nConnection: " + named + "\r\nContent-Length: 10\r\n\r\n0123456789" + smuggled(), 400, "bad_request");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Authorization: Bearer\r\n ", "X-Folded: a\r\n\t", "X-Folded: a\r\n  "})
    void foldedHeaderLinesAreRefused(String fold) throws Exception {
        String head = fold.startsWith("Authorization")
                ? "GET /echo HTTP/1.1\r\nHost: " + host + "\r\n" + fold + token + "\r\n\r\n"
                : "GET /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token + "\r\n" + fold + "b\r\n\r\n";
        refusedAndClosed(head, 400, "bad_request");
    }

    @Test
    void foldedLineArrivingInPiecesIsRefused() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("GET /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token + "\r\nX-A: 1\r\n");
            http.awaitReadByServer();
            http.send(" 2\r\n\r\n");
            assertProblem(http.read(), 400, "bad_request");
        }
        assertEquals(new JsonArray(), originLog(false));
    }

    @Test
    void absoluteFormNamingAnotherAuthorityIsRefused() throws Exception {
        refusedAndClosed("GET http://169.254.169.254/latest/meta-data/ HTTP/1.1\r\nHost: " + host
                + "\r\nAuthorization: Bearer " + token + "\r\n\r\n", 400, "bad_request");
    }

    @Test
    void absoluteFormOfThisHostReachesTheOriginInOriginForm() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("GET http://" + host + "/echo?q=1 HTTP/1.1\r\nHost: " + host
                    + "\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response response = http.read();
            assertEquals(200, response.status());
            assertEquals("/echo?q=1", new JsonObject(response.text()).getString("uri"));
        }
        JsonArray log = originLog(false);
        assertEquals(1, log.size());
        assertEquals("/echo?q=1", log.getJsonObject(0).getString("uri"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"CONNECT 169.254.169.254:80 HTTP/1.1\r\nHost: 169.254.169.254:80",
            "TRACE /echo HTTP/1.1\r\nHost: HOST"})
    void connectAndTraceGet405WithAllow(String line) throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send(line.replace("HOST", host) + "\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response response = http.read();
            assertProblem(response, 405, "method_not_allowed");
            assertNotNull(response.first("allow"));
            assertTrue(http.closedByServer(PATIENCE_MILLIS));
        }
        assertEquals(new JsonArray(), originLog(false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Host: \"evil\"", "Host: a b", "Host: x:99999", "Host: x:", "Host: ", "Host: a@b",
            "Host: HOST\r\nHost: other", "X-No-Host: 1"})
    void invalidOrMissingHostIsRefused(String hostLine) throws Exception {
        refusedAndClosed("GET /echo HTTP/1.1\r\n" + hostLine.replace("HOST", host) + "\r\nAuthorization: Bearer "
                + token + "\r\n\r\n", 400, "bad_request");
    }

    @Test
    void http10WithoutHostGetsSessionUrlsOfTheListener() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("GET /jmap/ HTTP/1.0\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response response = http.read();
            assertEquals(200, response.status());
            String apiUrl = new JsonObject(response.text()).getString("apiUrl");
            assertEquals("http://" + host + "/jmap/", apiUrl);
        }
    }

    @Test
    void malformedHeadGetsAProblemDocumentNotVertxsPlainText() throws Exception {
        refusedAndClosed("GET /echo HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                400, "bad_request");
    }

    @Test
    void oversizedHeadGets431() throws Exception {
        refusedAndClosed("GET /echo HTTP/1.1\r\nHost: " + host + "\r\nX-Big: " + "a".repeat(30_000) + "\r\n\r\n",
                431, "headers_too_large");
    }

    @Test
    void headTricklingPastItsDeadlineGets408() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("GET /echo HTTP/1.1\r\nHost: " + host + "\r\n");
            long start = System.nanoTime();
            // One header byte at a time, as a slowloris client does, for far longer than the deadline.
            boolean answered = false;
            for (int i = 0; i < 300 && !answered; i++) {
                try {
                    http.send("X");
                } catch (java.io.IOException closed) {
                    break;
                }
                Thread.sleep(100);
                answered = http.available() > 0;
            }
            assertProblem(http.read(), 408, "request_timeout");
            assertTrue(System.nanoTime() - start < PATIENCE_MILLIS * 1_000_000L);
            assertTrue(http.closedByServer(PATIENCE_MILLIS));
        }
        assertEquals(new JsonArray(), originLog(false));
    }

    @Test
    void connectionThatSendsNothingIsClosed() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            assertTrue(http.closedByServer(PATIENCE_MILLIS), "an idle connection stayed open");
        }
    }

    @Test
    void keptAliveConnectionIsClosedWhenIdle() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("GET /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            assertEquals(200, http.read().status());
            assertTrue(http.closedByServer(PATIENCE_MILLIS), "an idle kept-alive connection stayed open");
        }
    }

    @Test
    void stalledUploadIsCutAndTheOriginNeverGetsItWhole() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("POST /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Length: 100\r\n\r\n0123456789");
            assertProblem(http.read(), 408, "request_timeout");
            assertTrue(http.closedByServer(PATIENCE_MILLIS));
        }
        for (Object entry : originLog(false)) {
            assertFalse(((JsonObject) entry).getBoolean("complete"), "the origin got the stalled upload whole");
        }
    }

    @Test
    void chunkedUploadPastTheLimitIsCutWith413() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("POST /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            byte[] chunk = ("10000\r\n" + "x".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
            try {
                for (int i = 0; i < 32; i++) {
                    http.send(chunk);
                }
                http.send("0\r\n\r\n");
            } catch (java.io.IOException cut) {
                // The proxy may close before all of the 2 MiB is written: that is the point.
            }
            assertProblem(http.read(), 413, "upload_too_large");
            assertTrue(http.closedByServer(PATIENCE_MILLIS));
        }
        for (Object entry : originLog(false)) {
            JsonObject request = (JsonObject) entry;
            assertFalse(request.getBoolean("complete"), "the origin got an over-limit upload whole");
            assertTrue(request.getLong("bodyLength") <= 1024 * 1024, "more than the limit reached the origin");
        }
    }

    @Test
    void chunkedUploadUnderTheLimitArrivesWhole() throws Exception {
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("POST /echo HTTP/1.1\r\nHost: " + host + "\r\nAuthorization: Bearer " + token
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n" + "4\r\nabcd\r\n0\r\n\r\n");
            RawHttp.Response response = http.read();
            assertEquals(200, response.status());
            assertEquals(4, new JsonObject(response.text()).getLong("bodyLength"));
        }
        JsonArray log = originLog(false);
        assertEquals(1, log.size());
        assertTrue(log.getJsonObject(0).getBoolean("complete"));
    }

    @Test
    void garbageTokenCookieOfEveryLengthIs401() throws Exception {
        for (int length = 0; length <= 40; length++) {
            try (RawHttp http = new RawHttp(base.getPort())) {
                http.send("GET /echo HTTP/1.1\r\nHost: " + host + "\r\nCookie: Authorization=" + "x".repeat(length)
                        + "\r\n\r\n");
                RawHttp.Response response = http.read();
                assertProblem(response, 401, "invalid_token");
            }
        }
        assertEquals(new JsonArray(), originLog(false));
    }
}
