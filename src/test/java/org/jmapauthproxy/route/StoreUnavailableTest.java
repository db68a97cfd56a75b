package org.jmapauthproxy.route;

import jakarta.inject.Inject;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.Jwts;
import org.jmapauthproxy.support.RealServers;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Redis accepts connections but never answers: requests get 503 after the lookup timeout, and keep getting it. */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "redis", value = "blackhole"))
class StoreUnavailableTest {

    @Inject
    @ProxyBase
    URL base;

    @TestHTTPResource(value = "health/", management = true)
    URL health;

    @Test
    void readinessIsDownWhileLivenessStaysUp() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(health + "ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, ready.statusCode());
        assertTrue(ready.body().contains("session-store"), ready.body());
        HttpResponse<String> live = http.send(HttpRequest.newBuilder(URI.create(health + "live")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, live.statusCode());
    }

    @Test
    void tooSlowSessionStoreGives503WithRetryAfter() throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String secret = ConfigProvider.getConfig().getValue("authproxy.jwt.secret", String.class);
        String token = Jwts.hs512(Jwts.claims("sid-x", 600, null), secret);
        for (int i = 0; i < 3; i++) {
            long start = System.nanoTime();
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + "jmap/"))
                    .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertEquals(503, response.statusCode());
            assertEquals("5", response.headers().firstValue("Retry-After").orElseThrow());
            assertEquals("store_unavailable", new JsonObject(response.body()).getString("reason"));
            assertTrue(millis >= 600 && millis < 5_000, "answered after " + millis + " ms, timeout is 700 ms");
        }
    }
}
