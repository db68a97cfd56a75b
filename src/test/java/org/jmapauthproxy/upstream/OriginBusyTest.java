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

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One origin connection and no wait queue: a second concurrent request is refused with 503, not queued forever. */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "pool", value = "tiny"))
class OriginBusyTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @Test
    void fullPoolWithoutWaitQueueGives503AndRecovers() throws Exception {
        String token = new Sessions(redis).create(Sessions.newSid(), "alice:pw");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest quick = HttpRequest.newBuilder(URI.create(base + "echo")).header("Authorization", "Bearer " + token).build();
        try (RawHttp holder = PoolHolder.hold(base.getPort(), token)) {
            // The one origin connection is now busy with a download the client does not read.
            HttpResponse<String> refused = http.send(quick, HttpResponse.BodyHandlers.ofString());
            assertEquals(503, refused.statusCode());
            assertEquals("origin_busy", new JsonObject(refused.body()).getString("reason"));
            assertEquals("5", refused.headers().firstValue("Retry-After").orElseThrow());
        }
        // The holder left: its origin exchange is reset and the connection is free again.
        assertEquals(200, PoolHolder.eventually(() -> http.send(quick, HttpResponse.BodyHandlers.ofString()).statusCode(), 200));
    }
}
