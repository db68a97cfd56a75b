package org.jmapauthproxy.jmap;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a JMAP client does through the proxy: session, well-known, event streams, WebSocket, interim responses. */
@QuarkusTest
@WithTestResource(RealServers.class)
class JmapTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    Sessions sessions;
    String token;
    Vertx vertx;

    @BeforeEach
    void setUp() {
        sessions = new Sessions(redis);
        token = sessions.create(Sessions.newSid(), "alice:alicepw");
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() {
        vertx.close();
    }

    String self() {
        return "http://" + base.getHost() + ":" + base.getPort();
    }

    RawHttp.Response get(String path, String extraHeaders) throws IOException {
        try (RawHttp raw = new RawHttp(base.getPort())) {
            raw.send("GET " + path + " HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort() + "\r\n"
                    + "Authorization: Bearer " + token + "\r\n" + extraHeaders + "\r\n");
            return raw.read();
        }
    }

    @Test
    void sessionUrlsBecomeAbsoluteUnderTheProxyWithTemplatesIntact() throws Exception {
        RawHttp.Response response = get("/jmap/", "");
        assertEquals(200, response.status());
        assertSession(new JsonObject(response.text()));
        assertEquals(Integer.toString(response.body().length), response.first("content-length"));
        assertTrue(response.first("cache-control").contains("no-store"));
        assertNull(response.first("upgrade"));
        assertNull(response.first("alt-svc"));
        assertNull(response.first("etag"), "the origin's ETag describes a different body");
    }

    @Test
    void gzippedSessionIsDecodedRewrittenAndSentGzippedWithItsNewLength() throws Exception {
        RawHttp.Response response = get("/jmap", "Accept-Encoding: gzip\r\n");
        assertEquals(200, response.status());
        assertEquals("gzip", response.first("content-encoding"));
        assertEquals(Integer.toString(response.body().length), response.first("content-length"));
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
            assertSession(new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        }
    }

    @Test
    void browserOfferingBrotliAndZstdStillGetsARewrittenSession() throws Exception {
        RawHttp.Response response = get("/jmap/", "Accept-Encoding: gzip, deflate, br, zstd\r\n");
        assertEquals(200, response.status());
        assertEquals("gzip", response.first("content-encoding"), "the origin was offered only codings the proxy rewrites");
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
            assertSession(new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        }
    }

    private void assertSession(JsonObject session) {
        assertEquals(self() + "/jmap/", session.getString("apiUrl"));
        assertEquals(self() + "/jmap/download/{accountId}/{blobId}/{name}?accept={type}", session.getString("downloadUrl"));
        assertEquals(self() + "/jmap/upload/{accountId}/", session.getString("uploadUrl"));
        assertEquals(self() + "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
                session.getString("eventSourceUrl"));
        assertEquals("ws://" + base.getHost() + ":" + base.getPort() + "/jmap/ws/",
                session.getJsonObject("capabilities").getJsonObject("urn:ietf:params:jmap:websocket").getString("url"));
        assertEquals(1073741824, session.getJsonObject("capabilities").getJsonObject("urn:ietf:params:jmap:core")
                .getInteger("maxSizeUpload"));
    }

    @Test
    void sessionUsesConfiguredOrTrustedPublicBaseOnlyWhenAllowed() throws Exception {
        // Forwarded headers are not trusted by default: the Host the client used wins.
        JsonObject session = new JsonObject(get("/jmap/", "X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n").text());
        assertEquals(self() + "/jmap/", session.getString("apiUrl"));
    }

    @Test
    void wellKnownRedirectPointsAtTheProxyNotTheOrigin() throws Exception {
        RawHttp.Response response = get("/.well-known/jmap", "");
        assertEquals(301, response.status());
        assertEquals(self() + "/jmap", response.first("location"));
    }

    @Test
    void davWellKnownRedirectsPointAtTheProxyForGetAndPropfind() throws Exception {
        assertEquals(self() + "/dav/calendars", get("/.well-known/caldav", "").first("location"));
        try (RawHttp raw = new RawHttp(base.getPort())) {
            raw.send("PROPFIND /.well-known/carddav HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
                    + "\r\nAuthorization: Bearer " + token + "\r\nDepth: 0\r\nContent-Length: 0\r\n\r\n");
            RawHttp.Response response = raw.read();
            assertEquals(301, response.status());
            assertEquals(self() + "/dav/addressbooks", response.first("location"));
        }
    }

    @Test
    void originAbsoluteLocationAndContentLocationAreRebasedOnAnyStatus() throws Exception {
        RawHttp.Response moved = get("/redirect?status=301&self=/dav/calendars/user/alice/", "");
        assertEquals(301, moved.status());
        assertEquals(self() + "/dav/calendars/user/alice/", moved.first("location"));
        assertEquals("moved", moved.text(), "the body is streamed untouched");
        String origin = "http://127.0.0.1:" + org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getValue("authproxy.origin.url", String.class).replaceAll(".*:", "");
        RawHttp.Response created = get("/redirect?status=201&location=" + origin + "/dav/x.ics"
                + "&content-location=" + origin + "/dav/y.ics", "");
        assertEquals(201, created.status());
        assertEquals(self() + "/dav/x.ics", created.first("location"));
        assertEquals(self() + "/dav/y.ics", created.first("content-location"));
    }

    @Test
    void relativeAndForeignLocationsAreKept() throws Exception {
        RawHttp.Response relative = get("/redirect?status=302&location=/dav/calendars/&content-location=x.ics", "");
        assertEquals("/dav/calendars/", relative.first("location"));
        assertEquals("x.ics", relative.first("content-location"));
        RawHttp.Response foreign = get("/redirect?status=302&location=https://login.example/start", "");
        assertEquals("https://login.example/start", foreign.first("location"));
    }

    @Test
    void publicUrlFromForwardedHeadersIsNotTakenFromAnUntrustedClient() throws Exception {
        RawHttp.Response response = get("/.well-known/caldav", "X-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n");
        assertEquals(self() + "/dav/calendars", response.first("location"));
    }

    @Test
    void interim102ResponsesAreSkippedAndTheFinalResponseArrives() throws Exception {
        RawHttp.Response response = get("/processing/3", "");
        assertEquals(200, response.status());
        assertEquals("{\"methodResponses\":[]}", response.text());
        // The origin connection survived the interim responses: the next request works too.
        assertEquals(200, get("/processing/1", "").status());
    }

    @Test
    void expect100ContinueUploadIsAnsweredAfterAuthenticationAndStreams() throws Exception {
        byte[] body = new byte[2 * 1024 * 1024];
        new Random(3).nextBytes(body);
        try (RawHttp raw = new RawHttp(base.getPort())) {
            raw.send("POST /jmap/upload/alice/ HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token + "\r\n"
                    + "Content-Type: application/octet-stream\r\nContent-Length: " + body.length + "\r\nExpect: 100-continue\r\n\r\n");
            assertEquals(100, raw.read().status());
            raw.send(body);
            RawHttp.Response response = raw.read();
            assertEquals(200, response.status());
            JsonObject echo = new JsonObject(response.text());
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)), echo.getString("bodySha256"));
            assertNull(echo.getJsonObject("headers").getValue("expect"), "the proxy answered the Expect itself");
        }
    }

    /** Opens an event stream on a raw socket and returns it with its head already read. */
    Socket openEventStream(String lastEventId) throws IOException {
        Socket socket = new Socket("127.0.0.1", base.getPort());
        socket.setSoTimeout(5_000);
        socket.getOutputStream().write(("GET /jmap/eventsource/?types=*&closeafter=no&ping=30 HTTP/1.1\r\nHost: localhost\r\n"
                + "Authorization: Bearer " + token + "\r\nAccept: text/event-stream\r\n"
                + (lastEventId == null ? "" : "Last-Event-ID: " + lastEventId + "\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII));
        String head = readUntil(socket.getInputStream(), "\r\n\r\n");
        assertTrue(head.startsWith("HTTP/1.1 200"), head);
        assertTrue(head.toLowerCase().contains("content-type: text/event-stream"), head);
        return socket;
    }

    static String readUntil(InputStream in, String end) throws IOException {
        StringBuilder text = new StringBuilder();
        while (!text.toString().endsWith(end)) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed after: " + text);
            }
            text.append((char) b);
        }
        return text.toString();
    }

    @Test
    void eventStreamDeliversEachEventAsSoonAsTheOriginSendsIt() throws Exception {
        try (Socket socket = openEventStream("41")) {
            InputStream in = socket.getInputStream();
            String first = readUntil(in, "\n\n");
            assertTrue(first.contains("data: last-event-id=41"), first);
            long previous = System.nanoTime();
            for (int i = 1; i <= 5; i++) {
                String event = readUntil(in, "\n\n");
                long now = System.nanoTime();
                assertTrue(event.contains("\"n\":" + i), event);
                // The origin sends one event every 100 ms; any buffering would show up as a gap.
                assertTrue((now - previous) / 1_000_000 < 400, "event " + i + " came " + (now - previous) / 1_000_000 + " ms late");
                previous = now;
            }
        }
    }

    @Test
    void openEventStreamsLeaveApiCallsFlowingAndAbortsFreeTheOrigin() throws Exception {
        List<Socket> streams = new ArrayList<>();
        try {
            // More streams than the ordinary pool has connections (4 in tests).
            for (int i = 0; i < 8; i++) {
                streams.add(openEventStream(null));
            }
            for (int i = 0; i < 6; i++) {
                long start = System.nanoTime();
                assertEquals(200, get("/echo/" + i, "").status());
                assertTrue((System.nanoTime() - start) / 1_000_000 < 2_000, "API call waited behind event streams");
            }
            assertEquals(8, originOpenStreams());
        } finally {
            for (Socket socket : streams) {
                socket.close();
            }
        }
        long deadline = System.currentTimeMillis() + 5_000;
        while (originOpenStreams() != 0 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, originOpenStreams(), "client aborts must end the origin streams");
        // No pooled connection leaked: a second round of streams fits again.
        for (int i = 0; i < 8; i++) {
            streams.set(i, openEventStream(null));
        }
        streams.forEach(s -> {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        });
    }

    int originOpenStreams() throws IOException {
        return new JsonObject(get("/origin-stats", "").text()).getInteger("openEventStreams");
    }

    WebSocket connect(String withToken, String cookieToken) throws Exception {
        WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(base.getPort())
                .setURI("/jmap/ws/").addSubProtocol("jmap");
        if (withToken != null) {
            options.addHeader("Authorization", "Bearer " + withToken);
        }
        if (cookieToken != null) {
            options.addHeader("Cookie", "lang=fr; Authorization=" + cookieToken);
        }
        return vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(8 << 20).setMaxMessageSize(16 << 20))
                .connect(options).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void webSocketHandshakeCarriesTheOriginCredentialNotTheToken() throws Exception {
        WebSocket socket = connect(null, token);
        assertEquals("jmap", socket.subProtocol());
        LinkedBlockingQueue<String> texts = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<Buffer> binaries = new LinkedBlockingQueue<>();
        socket.textMessageHandler(texts::add);
        socket.binaryMessageHandler(binaries::add);
        socket.writeTextMessage("whoami");
        JsonObject seen = new JsonObject(texts.poll(5, TimeUnit.SECONDS));
        assertEquals("Basic YWxpY2U6YWxpY2Vwdw==", seen.getString("authorization"));
        assertEquals("lang=fr", seen.getString("cookie"));
        assertEquals("jmap", seen.getString("subprotocol"));

        // JMAP requests can be far above Vert.x's 64 KiB default frame size.
        String big = "x".repeat(1_500_000);
        socket.writeTextMessage(big);
        assertEquals(big, texts.poll(10, TimeUnit.SECONDS));
        byte[] blob = new byte[3 * 1024 * 1024];
        new Random(5).nextBytes(blob);
        socket.writeBinaryMessage(Buffer.buffer(blob));
        assertArrayEquals(blob, binaries.poll(10, TimeUnit.SECONDS).getBytes());
        socket.close();
    }

    @Test
    void webSocketUpgradeWithoutTokenIsRefusedWith401() {
        ExecutionException failure = assertThrows(ExecutionException.class, () -> connect(null, null));
        UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, failure.getCause());
        assertEquals(401, rejected.getStatus());
    }

    @Test
    void webSocketIsClosedWith1008WhenTheTokenExpires() throws Exception {
        String sid = Sessions.newSid();
        sessions.create(sid, "alice:alicepw");
        WebSocket socket = connect(sessions.token(sid, 2), null);
        CompletableFuture<Short> closed = new CompletableFuture<>();
        socket.closeHandler(v -> closed.complete(socket.closeStatusCode()));
        long start = System.nanoTime();
        assertEquals((short) 1008, closed.get(10, TimeUnit.SECONDS));
        assertTrue((System.nanoTime() - start) / 1_000_000 >= 500, "closed before the token expired");
    }
}
