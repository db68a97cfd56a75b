package org.jmapauthproxy.upstream;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.jmapauthproxy.support.TestOrigin;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bodies on their way through the proxy ({@link BodyRelay}), seen from a raw client socket: a
 * response body the origin breaks off never looks complete; a client that stops reading holds the
 * origin back, and an origin that stops reading holds the client's upload back, instead of either
 * filling the proxy's memory; and once the reader reads, the rest flows and arrives intact.
 */
@QuarkusTest
@WithTestResource(RealServers.class)
class BodyRelayTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    private String token() {
        return new Sessions(redis).create(Sessions.newSid(), "alice:pw");
    }

    private String get(String path, String token) {
        return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    }

    /**
     * The origin declares 600,000 bytes, sends 300,000 and closes: the client gets at most those
     * (each one the origin's), then the connection's end, with the declared length unmet.
     */
    @Test
    void aDeclaredBodyTheOriginBreaksOffEndsWithTheConnection() throws Exception {
        String token = token();
        try (RawHttp client = new RawHttp(base.getPort())) {
            client.send(get("/cut/300000", token));
            RawHttp.Response head = client.readHead();
            assertEquals(200, head.status());
            assertEquals("600000", head.first("content-length"));
            byte[] body = client.readUntilClosed();
            assertTrue(body.length <= 300_000, body.length + " bytes");
            assertArrayEquals(TestOrigin.pattern(0, body.length), body, "only the origin's bytes, in order");
        }
        assertStillServing(token);
    }

    /**
     * The same without a declared length: the client's chunked body gets no last chunk, so it cannot
     * be taken for a complete one.
     */
    @Test
    void aChunkedBodyTheOriginBreaksOffGetsNoLastChunk() throws Exception {
        String token = token();
        try (RawHttp client = new RawHttp(base.getPort())) {
            client.send(get("/cut/300000?chunked", token));
            RawHttp.Response head = client.readHead();
            assertEquals(200, head.status());
            assertEquals("chunked", head.first("transfer-encoding"));
            String rest = new String(client.readUntilClosed(), StandardCharsets.ISO_8859_1);
            assertFalse(rest.endsWith("\r\n0\r\n\r\n"), "a last chunk after a broken-off body");
            assertTrue(rest.length() > 0, "nothing of the body arrived");
        }
        assertStillServing(token);
    }

    /**
     * A client that reads only the head of a 256 MiB download: the proxy stops reading the origin
     * once the sockets' buffers and its small write queue are full, so the origin's sending stops
     * far short of the body (without back-pressure the proxy would take all of it at loopback
     * speed). Once the client reads, the rest flows and arrives intact.
     */
    @Test
    void aClientThatStopsReadingHoldsTheOriginBackThenGetsItAll() throws Exception {
        String token = token();
        long size = 256L << 20;
        String tag = UUID.randomUUID().toString();
        try (RawHttp client = new RawHttp(base.getPort())) {
            client.send(get("/bytes/" + size + "?tag=" + tag, token));
            RawHttp.Response head = client.readHead();
            assertEquals(200, head.status());
            long held = sentWhenSettled(tag, token);
            assertTrue(held > 0, "the origin sent nothing");
            assertTrue(held < 64L << 20, "the origin sent " + held + " bytes to a client that reads none");

            TestOrigin.BodyDigest received = TestOrigin.digest(client.input(), size);
            assertEquals(new TestOrigin.BodyDigest(size, TestOrigin.patternSha256(size)), received);
        }
    }

    /**
     * A 256 MiB upload with a declared length to an origin that reads none of it: the proxy stops
     * reading the client once the sockets' buffers and its write queue towards the origin are full,
     * so the client's writes block far short of the body. Once the origin reads, it gets it whole.
     */
    @Test
    void anOriginThatStopsReadingHoldsTheUploadBackThenGetsItAll() throws Exception {
        String token = token();
        long size = 256L << 20;
        try (RawHttp client = new RawHttp(base.getPort())) {
            client.send("POST /upload?stall HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Type: application/octet-stream\r\nContent-Length: " + size + "\r\n\r\n");
            AtomicLong written = new AtomicLong();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (long offset = 0; offset < size; offset += 1 << 16) {
                        client.send(TestOrigin.pattern(offset, (int) Math.min(1 << 16, size - offset)));
                        written.set(Math.min(size, offset + (1 << 16)));
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            }, "upload-writer");
            writer.setDaemon(true);
            writer.start();
            long held = settled(written::get);
            assertTrue(held > 0, "nothing of the upload was written");
            assertTrue(held < 64L << 20, "the client wrote " + held + " bytes to an origin that reads none");

            assertEquals("1", http.send(HttpRequest.newBuilder(URI.create(base + "origin-resume"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body());
            writer.join(60_000);
            assertEquals(null, failed.get());
            assertEquals(size, written.get());
            RawHttp.Response response = client.read();
            assertEquals(200, response.status(), response.text());
            JsonObject echo = new JsonObject(response.text());
            assertEquals(size, echo.getLong("bodyLength"));
            assertEquals(TestOrigin.patternSha256(size), echo.getString("bodySha256"));
        }
    }

    /** Polls the origin's count of bytes sent under {@code tag} until it has not moved for a second. */
    private long sentWhenSettled(String tag, String token) throws Exception {
        return settled(() -> new JsonObject(http.send(HttpRequest.newBuilder(URI.create(base + "origin-stats?tag=" + tag))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body())
                .getLong("bytesSent"));
    }

    interface Count {
        long get() throws Exception;
    }

    /** Polls a growing count until it is above 0 and has not moved for a second (at most 30 s). */
    private static long settled(Count count) throws Exception {
        long last = -1;
        int unchanged = 0;
        for (int poll = 0; poll < 300 && unchanged < 10; poll++) {
            Thread.sleep(100); // paces the poll
            long now = count.get();
            unchanged = now == last && now > 0 ? unchanged + 1 : 0;
            last = now;
        }
        assertEquals(10, unchanged, "the count never settled (last " + last + ")");
        return last;
    }

    private void assertStillServing(String token) throws Exception {
        try (RawHttp next = new RawHttp(base.getPort())) {
            next.send(get("/bytes/1000", token));
            RawHttp.Response response = next.read();
            assertEquals(200, response.status());
            assertTrue(Arrays.equals(TestOrigin.pattern(0, 1000), response.body()), "the next body");
        }
    }
}
