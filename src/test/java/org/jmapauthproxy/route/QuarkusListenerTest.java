package org.jmapauthproxy.route;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code authproxy.http.direct=false} (what dev mode uses): the same route served by Quarkus's own
 * listener, and the proxy's listener not opened.
 */
@QuarkusTest
@TestProfile(QuarkusListenerTest.QuarkusListener.class)
@WithTestResource(RealServers.class)
class QuarkusListenerTest {

    public static class QuarkusListener implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("authproxy.http.direct", "false", "quarkus.http.host-enabled", "true");
        }
    }

    @Inject
    RedisDataSource redis;

    @Inject
    ProxyServer proxyServer;

    @TestHTTPResource("/")
    URL base;

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void quarkusListenerProxiesAndRefuses() throws Exception {
        String token = new Sessions(redis).create(Sessions.newSid(), "alice:pw");
        HttpResponse<String> proxied = http.send(HttpRequest.newBuilder(URI.create(base + "echo"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, proxied.statusCode());
        assertEquals("Basic YWxpY2U6cHc=", new JsonObject(proxied.body()).getJsonObject("headers")
                .getJsonArray("authorization").getString(0));
        HttpResponse<String> refused = http.send(HttpRequest.newBuilder(URI.create(base + "echo")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(401, refused.statusCode());
        assertEquals("no_token", new JsonObject(refused.body()).getString("reason"));
        assertEquals(-1, proxyServer.port(), "the proxy's own listener must stay closed");
    }
}
