package org.jmapauthproxy.route;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.jmapauthproxy.support.TestOrigin;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The core gateway against a real Redis and a real origin: every outcome, header and body rule. */
@QuarkusTest
@WithTestResource(RealServers.class)
class GatewayTest {

    static final String BASIC_ALICE = "Basic " + Base64.getEncoder().encodeToString("alice:s3cret pw".getBytes(StandardCharsets.UTF_8));

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    Sessions sessions;
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void setUp() {
        sessions = new Sessions(redis);
    }

    HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base.toString()).resolve(path));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonObject json(HttpResponse<String> response) {
        return new JsonObject(response.body());
    }

    static String originHeader(HttpResponse<String> echo, String name) {
        JsonArray values = json(echo).getJsonObject("headers").getJsonArray(name);
        return values == null ? null : String.join("|", values.getList());
    }

    void assertProblem(HttpResponse<String> response, int status, String reason, String secret) {
        assertEquals(status, response.statusCode());
        assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(null));
        JsonObject problem = json(response);
        assertEquals(status, problem.getInteger("status"));
        assertEquals(reason, problem.getString("reason"));
        assertNotNull(problem.getString("title"));
        assertEquals(response.headers().firstValue("X-Request-Id").orElseThrow(), problem.getString("requestId"));
        if (secret != null) {
            assertFalse(response.body().contains(secret), "problem body leaks a secret");
        }
        assertFalse(response.body().contains("Exception"), "problem body names an exception");
    }

    int port() {
        return base.getPort();
    }

    @Test
    void noTokenIsRejectedWith401AndPlainBearerChallenge() throws Exception {
        HttpResponse<String> response = get("/jmap/");
        assertProblem(response, 401, "no_token", null);
        assertEquals("Bearer realm=\"jmap\"", response.headers().firstValue("WWW-Authenticate").orElseThrow());
    }

    @Test
    void badSignatureIsRejectedWith401InvalidToken() throws Exception {
        String sid = Sessions.newSid();
        String token = sessions.create(sid, "alice:s3cret pw");
        String forged = token.substring(0, token.length() - 4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
        HttpResponse<String> response = get("/jmap/", "Authorization", "Bearer " + forged);
        assertProblem(response, 401, "invalid_token", forged);
        assertEquals("Bearer realm=\"jmap\", error=\"invalid_token\"", response.headers().firstValue("WWW-Authenticate").orElseThrow());
    }

    @Test
    void expiredTokenIsRejectedWith401() throws Exception {
        String sid = Sessions.newSid();
        sessions.create(sid, "alice:s3cret pw");
        String expired = sessions.token(sid, -120);
        assertProblem(get("/jmap/", "Authorization", "Bearer " + expired), 401, "invalid_token", expired);
    }

    @Test
    void notYetValidTokenIsRejectedWith401() throws Exception {
        String sid = Sessions.newSid();
        sessions.create(sid, "alice:s3cret pw");
        long now = System.currentTimeMillis() / 1000;
        String future = org.jmapauthproxy.support.Jwts.hs512(
                "{\"sid\":\"" + sid + "\",\"exp\":" + (now + 900) + ",\"nbf\":" + (now + 600) + "}", sessions.secret());
        assertProblem(get("/jmap/", "Authorization", "Bearer " + future), 401, "invalid_token", future);
    }

    @Test
    void unknownSessionIsRejectedWith401() throws Exception {
        String token = sessions.token(Sessions.newSid(), 600);
        assertProblem(get("/jmap/", "Authorization", "Bearer " + token), 401, "unknown_session", token);
    }

    /** Polls until the request is refused; returns how long that took. */
    long millisUntilRefused(String token) throws Exception {
        long start = System.nanoTime();
        while (get("/echo", "Authorization", "Bearer " + token).statusCode() != 401) {
            assertTrue(System.nanoTime() - start < 1_000_000_000L, "still accepted after 1 s");
            Thread.sleep(5);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    @Test
    void deletedSessionIsRefusedWithinOneSecondEvenWhenCached() throws Exception {
        String sid = Sessions.newSid();
        String token = sessions.create(sid, "alice:s3cret pw");
        for (int i = 0; i < 3; i++) {
            assertEquals(200, get("/echo", "Authorization", "Bearer " + token).statusCode());
        }
        sessions.delete(sid);
        millisUntilRefused(token);
        assertProblem(get("/echo", "Authorization", "Bearer " + token), 401, "unknown_session", token);
    }

    @Test
    void changedSessionIsSeenWithinOneSecondEvenWhenCached() throws Exception {
        String sid = Sessions.newSid();
        String token = sessions.create(sid, "alice:s3cret pw");
        assertEquals(BASIC_ALICE, originHeader(get("/echo", "Authorization", "Bearer " + token), "authorization"));
        assertEquals(BASIC_ALICE, originHeader(get("/echo", "Authorization", "Bearer " + token), "authorization"));
        sessions.create(sid, "alice:new password");
        String expected = "Basic " + Base64.getEncoder().encodeToString("alice:new password".getBytes(StandardCharsets.UTF_8));
        long start = System.nanoTime();
        while (!expected.equals(originHeader(get("/echo", "Authorization", "Bearer " + token), "authorization"))) {
            assertTrue(System.nanoTime() - start < 1_000_000_000L, "old credentials still used after 1 s");
            Thread.sleep(5);
        }
    }

    @Test
    void credentialsThatDoNotOpenAreRejectedWith401() throws Exception {
        String sid = Sessions.newSid();
        byte[] otherKey = new byte[32];
        new Random(7).nextBytes(otherKey);
        sessions.store(sid, sessions.sealed(otherKey, sid, "alice:s3cret pw"));
        String token = sessions.token(sid, 600);
        assertProblem(get("/echo", "Authorization", "Bearer " + token), 401, "bad_credentials", token);

        String moved = Sessions.newSid();
        sessions.store(moved, sessions.sealed(Base64.getDecoder().decode(
                org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("authproxy.credentials.key", String.class)),
                "another-sid", "alice:s3cret pw"));
        assertProblem(get("/echo", "Authorization", "Bearer " + sessions.token(moved, 600)), 401, "bad_credentials", null);

        String notJson = Sessions.newSid();
        sessions.storeRaw(notJson, "alice:s3cret pw");
        assertProblem(get("/echo", "Authorization", "Bearer " + sessions.token(notJson, 600)), 401, "bad_credentials", "s3cret");
    }

    @Test
    void credentialsWithHeaderBreakingCharactersAreRejectedWith401() throws Exception {
        for (String plaintext : List.of("alice:pw\r\nX-Evil: 1", "alice:pw\u0000", "no-colon-here")) {
            String sid = Sessions.newSid();
            String token = sessions.create(sid, plaintext);
            HttpResponse<String> response = get("/echo", "Authorization", "Bearer " + token);
            assertProblem(response, 401, "bad_credentials", "X-Evil");
        }
    }

    @Test
    void oversizedSessionValueIsRefusedUnreadAsBadCredentials() throws Exception {
        // A working session padded to 8 MiB: only the first bytes of it may be read.
        String sid = Sessions.newSid();
        String sealed = sessions.sealed(java.util.Base64.getDecoder().decode(org.eclipse.microprofile.config.ConfigProvider
                .getConfig().getValue("authproxy.credentials.key", String.class)), sid, "alice:s3cret pw");
        sessions.storeRaw(sid, new JsonObject().put("credentials", sealed).put("padding", "p".repeat(8 << 20)).encode());
        String token = sessions.token(sid, 600);
        for (int i = 0; i < 3; i++) {
            assertProblem(get("/echo", "Authorization", "Bearer " + token), 401, "bad_credentials", token);
        }
        String small = Sessions.newSid();
        sessions.storeRaw(small, new JsonObject().put("credentials", sessions.sealed(java.util.Base64.getDecoder().decode(
                org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("authproxy.credentials.key", String.class)),
                small, "alice:s3cret pw")).put("padding", "p".repeat(3000)).encode());
        assertEquals(200, get("/echo", "Authorization", "Bearer " + sessions.token(small, 600)).statusCode());
    }

    @Test
    void bearerHeaderReachesOriginAsBasicWithoutTheToken() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        HttpResponse<String> echo = get("/jmap/", "Authorization", "Bearer " + token, "Accept", "application/json");
        // /jmap/ is the session path of the test origin; use the echo path for headers.
        echo = get("/echo/any", "Authorization", "Bearer " + token, "Cookie", "theme=dark; lang=en");
        assertEquals(200, echo.statusCode());
        assertEquals(BASIC_ALICE, originHeader(echo, "authorization"));
        assertEquals("theme=dark; lang=en", originHeader(echo, "cookie"));
        assertFalse(echo.body().contains(token));
    }

    @Test
    void everyCookieFormOfHyperAuthProxyIsAcceptedAndStripped() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        String b64 = Base64.getEncoder().encodeToString(token.getBytes(StandardCharsets.US_ASCII));
        String quotedB64 = Base64.getEncoder().encodeToString(("\"" + token + "\"").getBytes(StandardCharsets.US_ASCII));
        for (String value : List.of(token, "\"" + token + "\"", b64, b64.replace("=", ""), quotedB64)) {
            HttpResponse<String> echo = get("/echo", "Cookie", "a=1; Authorization=" + value + "; b=2");
            assertEquals(200, echo.statusCode(), value);
            assertEquals(BASIC_ALICE, originHeader(echo, "authorization"));
            assertEquals("a=1; b=2", originHeader(echo, "cookie"));
        }
        HttpResponse<String> only = get("/echo", "Cookie", "Authorization=" + token);
        assertNull(originHeader(only, "cookie"), "a Cookie header with only the token must not reach the origin");
    }

    @Test
    void sealedValueStoredWithTheShellsTrailingNewlineIsAccepted() throws Exception {
        for (String tail : List.of("\n", "\r\n")) {
            String sid = Sessions.newSid();
            sessions.store(sid, sessions.sealed(Base64.getDecoder().decode(org.eclipse.microprofile.config.ConfigProvider
                    .getConfig().getValue("authproxy.credentials.key", String.class)), sid, "alice:s3cret pw") + tail);
            HttpResponse<String> echo = get("/echo", "Authorization", "Bearer " + sessions.token(sid, 600));
            assertEquals(200, echo.statusCode(), tail.replace("\r", "CR").replace("\n", "LF"));
            assertEquals(BASIC_ALICE, originHeader(echo, "authorization"));
        }
    }

    @Test
    void previousKeyStillOpensSessionsDuringRotation() throws Exception {
        String sid = Sessions.newSid();
        byte[] previous = Base64.getDecoder().decode(org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("authproxy.credentials.previous-keys", String.class).split(",")[0]);
        sessions.store(sid, sessions.sealed(previous, sid, "alice:s3cret pw"));
        HttpResponse<String> echo = get("/echo", "Authorization", "Bearer " + sessions.token(sid, 600));
        assertEquals(200, echo.statusCode());
        assertEquals(BASIC_ALICE, originHeader(echo, "authorization"));
    }

    @Test
    void rawPathAndQueryReachOriginByteForByte() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        String uri = "/jmap/download/a%2Fb/%7BblobId%7D/n%C3%A4me.txt?accept=text%2Fplain&x=1&x=2&empty=&sp=%20";
        try (RawHttp raw = new RawHttp(port())) {
            raw.send("GET " + uri + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response response = raw.read();
            assertEquals(200, response.status());
            assertEquals(uri, new JsonObject(response.text()).getString("uri"));
        }
    }

    @Test
    void multiMiBUploadArrivesIntactWithAndWithoutLength() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        byte[] body = new byte[12 * 1024 * 1024 + 17];
        new Random(42).nextBytes(body);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        HttpResponse<String> sized = http.send(HttpRequest.newBuilder(URI.create(base + "jmap/upload/alice/"))
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, sized.statusCode());
        assertEquals(sha, json(sized).getString("bodySha256"));
        assertEquals(body.length, json(sized).getLong("bodyLength"));
        assertEquals(Integer.toString(body.length), originHeader(sized, "content-length"));

        HttpResponse<String> chunked = http.send(HttpRequest.newBuilder(URI.create(base + "jmap/upload/alice/"))
                .header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, chunked.statusCode());
        assertEquals(sha, json(chunked).getString("bodySha256"));
        assertEquals("chunked", originHeader(chunked, "transfer-encoding"));
    }

    @Test
    void cleartextHttp2PriorKnowledgeIsNotSpoken() throws Exception {
        // The proxy port is HTTP/1.1 only: the HTTP/2 preface is an HTTP/1.x request line with an
        // asterisk target, refused like any other target that is not a path.
        try (RawHttp http = new RawHttp(port())) {
            http.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
            RawHttp.Response response = http.read();
            assertEquals(400, response.status());
            assertEquals("application/problem+json", response.first("content-type"));
            assertTrue(http.closedByServer(10_000));
        }
    }

    @Test
    void h2cUpgradeIsNotSwitchedBeforeTheToken() throws Exception {
        try (RawHttp http = new RawHttp(port())) {
            http.send("GET /echo HTTP/1.1\r\nHost: 127.0.0.1:" + port() + "\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n");
            RawHttp.Response response = http.read();
            assertEquals(401, response.status());
            assertEquals("application/problem+json", response.first("content-type"));
        }
    }

    @Test
    void h2cUpgradeWithATokenStaysHttp11AndReachesTheOrigin() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        try (RawHttp http = new RawHttp(port())) {
            http.send("GET /echo HTTP/1.1\r\nHost: 127.0.0.1:" + port() + "\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                    + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response response = http.read();
            assertEquals(200, response.status());
            JsonObject echo = new JsonObject(response.text());
            assertNull(echo.getJsonObject("headers").getJsonArray("upgrade"));
            assertNull(echo.getJsonObject("headers").getJsonArray("http2-settings"));
        }
    }

    @Test
    void multiMiBDownloadArrivesIntact() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        int size = 48 * 1024 * 1024 + 3;
        HttpResponse<InputStream> response = http.send(HttpRequest.newBuilder(URI.create(base + "bytes/" + size))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals(Long.toString(size), response.headers().firstValue("Content-Length").orElseThrow());
        try (InputStream in = response.body()) {
            assertEquals(new TestOrigin.BodyDigest(size, TestOrigin.patternSha256(size)), TestOrigin.digest(in, Long.MAX_VALUE));
        }
    }

    @Test
    void hopByHopHeadersStayOnTheirHopBothWays() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        try (RawHttp raw = new RawHttp(port())) {
            raw.send("GET /echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n"
                    + "Connection: keep-alive, X-Client-Hop\r\nX-Client-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
                    + "TE: trailers\r\nProxy-Authorization: Basic eDp5\r\nX-End-To-End: kept\r\n\r\n");
            JsonObject headers = new JsonObject(raw.read().text()).getJsonObject("headers");
            for (String hop : List.of("x-client-hop", "keep-alive", "te", "proxy-authorization", "upgrade")) {
                assertNull(headers.getValue(hop), hop + " reached the origin");
            }
            assertEquals("kept", headers.getJsonArray("x-end-to-end").getString(0));
            assertFalse(String.valueOf(headers.getValue("connection")).contains("X-Client-Hop"));

            raw.send("GET /set-cookies HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response response = raw.read();
            assertEquals(200, response.status());
            assertEquals(List.of("a=1; Path=/", "b=2; Path=/", "c=3; HttpOnly"), response.all("set-cookie"));
            assertEquals("yes", response.first("x-kept"));
            for (String hop : List.of("x-origin-private", "keep-alive", "upgrade", "alt-svc")) {
                assertNull(response.first(hop), hop + " reached the client");
            }
            assertFalse(String.valueOf(response.first("connection")).toLowerCase().contains("upgrade"));
        }
    }

    @Test
    void forwardedHeadersAndRequestIdAreSet() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        HttpResponse<String> echo = get("/echo", "Authorization", "Bearer " + token, "X-Forwarded-For", "6.6.6.6");
        assertEquals("127.0.0.1", originHeader(echo, "x-forwarded-for"), "untrusted X-Forwarded-For is replaced");
        assertEquals("http", originHeader(echo, "x-forwarded-proto"));
        assertEquals(base.getHost() + ":" + port(), originHeader(echo, "x-forwarded-host"));
        String generated = originHeader(echo, "x-request-id");
        assertTrue(generated.matches("[0-9a-f]{32}"), generated);
        assertEquals(generated, echo.headers().firstValue("X-Request-Id").orElseThrow());

        HttpResponse<String> given = get("/echo", "Authorization", "Bearer " + token, "X-Request-Id", "client-req.42");
        assertEquals("client-req.42", originHeader(given, "x-request-id"));
    }

    @Test
    void declaredBodyAboveLimitIsRefusedWith413BeforeTheOrigin() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        try (RawHttp raw = new RawHttp(port())) {
            raw.send("POST /jmap/upload/alice/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: 107374182400\r\nExpect: 100-continue\r\n\r\n");
            RawHttp.Response response = raw.read();
            assertEquals(413, response.status());
            assertEquals("application/problem+json", response.first("content-type"));
            assertEquals("upload_too_large", new JsonObject(response.text()).getString("reason"));
            assertTrue(raw.closedByServer(5_000), "the unread body must not be parsed as the next request");
        }
    }

    @Test
    void originAnswering401BecomesTheProxysBearerChallenge() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        HttpResponse<String> response = get("/status/401", "Authorization", "Bearer " + token);
        assertProblem(response, 401, "origin_rejected_credentials", token);
        assertEquals(List.of("Bearer realm=\"jmap\", error=\"invalid_token\""), response.headers().allValues("WWW-Authenticate"));
    }

    /**
     * HTTP/1.0 has no chunked coding: an origin body without a length reaches such a client ended by
     * the connection's close, at once, even when the client asked to keep the connection alive
     * (before, the connection stayed open and the body's end came with the keep-alive timeout, 10 s).
     */
    @Test
    void http10KeepAliveClientGetsAnUnlengthedBodyEndedByTheClose() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        try (RawHttp http = new RawHttp(base.getPort())) {
            http.send("GET /chunked/8000000 HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            // Larger than the sockets' buffers and read late: the close must wait for what is queued.
            Thread.sleep(500);
            long start = System.nanoTime();
            RawHttp.Response response = http.read();
            long tookMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(200, response.status());
            assertEquals("close", response.first("connection"));
            assertNull(response.first("transfer-encoding"));
            assertArrayEquals(TestOrigin.pattern(0, 8_000_000), response.body(), "the whole body");
            assertTrue(tookMillis < 5_000, "the body ended after " + tookMillis + " ms, with the keep-alive timeout");
        }
    }

    @Test
    void originSlowerThanTheTimeoutGives504() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        long start = System.nanoTime();
        HttpResponse<String> response = get("/slow/8000", "Authorization", "Bearer " + token);
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertProblem(response, 504, "origin_timeout", token);
        assertTrue(tookMillis >= 2_500 && tookMillis < 7_000, "answered after " + tookMillis + " ms, timeout is 3 s");
    }

    @Test
    void keepAliveConnectionSurvivesEveryRejection() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:s3cret pw");
        try (RawHttp raw = new RawHttp(port())) {
            raw.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertEquals(401, raw.read().status());
            raw.send("GET /echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer a.b.c\r\n\r\n");
            assertEquals(401, raw.read().status());
            raw.send("GET /status/401 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            assertEquals(401, raw.read().status());
            raw.send("GET /echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response ok = raw.read();
            assertEquals(200, ok.status());
            assertEquals(BASIC_ALICE, new JsonObject(ok.text()).getJsonObject("headers").getJsonArray("authorization").getString(0));
        }
    }
}
