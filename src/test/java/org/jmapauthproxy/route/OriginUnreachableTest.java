package org.jmapauthproxy.route;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Nothing listens at the origin URL: a valid session gets 502, repeatedly, and nothing leaks. */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "origin", value = "closed"))
class OriginUnreachableTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @TestHTTPResource(value = "health/ready", management = true)
    URL ready;

    @Test
    void readinessIsDownWhileTheOriginRefusesConnections() throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(ready.toURI()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, response.statusCode());
        assertTrue(response.body().contains("\"origin\""), response.body());
        // Where and what, not an exception class name.
        assertTrue(response.body().contains("connection refused by 127.0.0.1:"), response.body());
        assertFalse(response.body().contains("Exception"), response.body());
    }

    @Test
    void refusedOriginGives502() throws Exception {
        Sessions sessions = new Sessions(redis);
        String token = sessions.create(Sessions.newSid(), "alice:pw");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "jmap/"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(502, response.statusCode());
            assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElseThrow());
            assertEquals("origin_unreachable", new JsonObject(response.body()).getString("reason"));
            assertFalse(response.body().contains("Connection refused"), "no internals in the body");
            assertFalse(response.body().contains(token));
        }
    }
}
