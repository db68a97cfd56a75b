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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One origin connection, a wait queue, and {@code authproxy.origin.timeout=2s}: a request that waits
 * for the busy connection is answered 503 {@code origin_busy} once the timeout has passed, instead of
 * waiting as long as the connection stays busy.
 */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "pool", value = "one"))
class OriginPoolWaitTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

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
}
