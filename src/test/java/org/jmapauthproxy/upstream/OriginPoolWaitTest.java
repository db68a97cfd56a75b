package org.jmapauthproxy.upstream;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.PoolHolder;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import io.quarkus.test.common.http.TestHTTPResource;
import io.vertx.core.json.JsonArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One origin connection, a wait queue, and {@code authproxy.origin.timeout=2s}: a request that waits
 * for the busy connection is answered 503 {@code origin_busy} once the timeout has passed, instead of
 * waiting as long as the connection stays busy. A client that leaves while it waits takes no
 * connection with it, and an upload that keeps flowing is not cut by the timeout.
 */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "pool", value = "one"))
class OriginPoolWaitTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @TestHTTPResource(value = "metrics", management = true)
    URL metrics;

    @Test
    void waitingForABusyPoolCountsAgainstTheOriginTimeout() throws Exception {
        String token = new Sessions(redis).create(Sessions.newSid(), "alice:pw");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest quick = HttpRequest.newBuilder(URI.create(base + "echo")).header("Authorization", "Bearer " + token)
                // Far past the 2 s bound: the proxy, not the client, must end the wait.
                .timeout(Duration.ofSeconds(60)).build();
        try (RawHttp holder = PoolHolder.hold(base.getPort(), token)) {
            long start = System.nanoTime();
            HttpResponse<String> refused = http.send(quick, HttpResponse.BodyHandlers.ofString());
            long waitedMillis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(503, refused.statusCode(), refused.body());
            assertEquals("origin_busy", new JsonObject(refused.body()).getString("reason"));
            // At least the timeout (it was waited for), far less than the holder's lifetime.
            assertTrue(waitedMillis >= 1_900, "answered after " + waitedMillis + " ms");
            assertTrue(waitedMillis < 30_000, "answered after " + waitedMillis + " ms");
        }
        assertEquals(200, PoolHolder.eventually(() -> http.send(quick, HttpResponse.BodyHandlers.ofString()).statusCode(), 200));
    }

    /**
     * A client that gives up while its request waits for the busy pool: when a connection frees up,
     * nothing of that request goes out on it (before the fix, the waiting POST was sent with the
     * part of its body that had arrived, and held the one connection waiting for the rest).
     */
    @Test
    void aClientThatLeavesWhileWaitingTakesNoConnection() throws Exception {
        String token = new Sessions(redis).create(Sessions.newSid(), "alice:pw");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest quick = HttpRequest.newBuilder(URI.create(base + "echo")).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(60)).build();
        clearOriginLog(http, token);
        try (RawHttp holder = PoolHolder.hold(base.getPort(), token)) {
            try (RawHttp leaving = new RawHttp(base.getPort())) {
                leaving.send("POST /echo?left HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                        + "\r\nContent-Length: 100\r\n\r\n0123456789");
                // Queued behind the holder: two requests hold or wait for the ordinary pool.
                assertTrue(PoolHolder.eventually(() -> get(http, metrics).contains(
                        "authproxy_origin_requests_active{pool=\"requests\"} 2.0"), true), "the POST never queued");
            }
            // The waiting client is gone; only the holder's exchange is left.
            assertTrue(PoolHolder.eventually(() -> get(http, metrics).contains(
                    "authproxy_origin_requests_active{pool=\"requests\"} 1.0"), true), "the POST's wait never ended");
        }
        // The holder is gone too: the pool's one connection is free for the next request at once.
        HttpResponse<String> next = http.send(quick, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, next.statusCode(), next.body());
        for (Object entry : clearOriginLog(http, token)) {
            assertTrue(!((JsonObject) entry).getString("uri").contains("left"), "the left request reached the origin: " + entry);
        }
    }

    /**
     * The origin timeout counts from the end of what the proxy sends: an upload that keeps flowing
     * for longer than the timeout (2 s here) reaches the origin whole and is answered.
     */
    @Test
    void anUploadLongerThanTheOriginTimeoutIsNotCut() throws Exception {
        String token = new Sessions(redis).create(Sessions.newSid(), "alice:pw");
        try (RawHttp upload = new RawHttp(base.getPort())) {
            upload.send("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                    + "\r\nTransfer-Encoding: chunked\r\n\r\n");
            long start = System.nanoTime();
            int chunks = 0;
            // Chunks 0.4 s apart for at least twice the timeout: each far inside it, all far beyond it.
            while (System.nanoTime() - start < 4_000_000_000L) {
                upload.send("400\r\n" + "x".repeat(0x400) + "\r\n");
                chunks++;
                Thread.sleep(400);
            }
            upload.send("0\r\n\r\n");
            RawHttp.Response response = upload.read();
            assertEquals(200, response.status(), response.text());
            JsonObject echo = new JsonObject(response.text());
            assertEquals(chunks * 0x400L, echo.getLong("bodyLength"), "the whole body reached the origin");
        }
    }

    private JsonArray clearOriginLog(HttpClient http, String token) throws Exception {
        HttpRequest log = HttpRequest.newBuilder(URI.create(base + "origin-log?clear"))
                .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(30)).build();
        return new JsonArray(http.send(log, HttpResponse.BodyHandlers.ofString()).body());
    }

    private static String get(HttpClient http, URL url) throws Exception {
        return http.send(HttpRequest.newBuilder(url.toURI()).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
