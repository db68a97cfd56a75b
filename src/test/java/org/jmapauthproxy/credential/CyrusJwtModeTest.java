package org.jmapauthproxy.credential;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
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
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code authproxy.origin.auth=cyrus-jwt} against a real origin that verifies the minted token the way
 * Cyrus's http_jwt does (exact header, HS256 with the key file's bytes, allowed claims, iat age).
 */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "origin-auth", value = "cyrus-jwt"))
class CyrusJwtModeTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    HttpResponse<String> get(String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void sessionNamingOnlyAUserReachesTheOriginWithAVerifiedMintedBearer() throws Exception {
        Sessions sessions = new Sessions(redis);
        String sid = Sessions.newSid();
        sessions.storeRaw(sid, new JsonObject().put("user", "alice").encode());
        String token = sessions.token(sid, 600);
        HttpResponse<String> verified = get("verify-bearer", token);
        assertEquals(200, verified.statusCode(), verified.body());
        assertEquals("alice", new JsonObject(verified.body()).getString("user"));

        String first = new JsonObject(get("echo", token).body()).getJsonObject("headers").getJsonArray("authorization").getString(0);
        String second = new JsonObject(get("echo", token).body()).getJsonObject("headers").getJsonArray("authorization").getString(0);
        assertTrue(first.startsWith("Bearer ey"), first);
        assertFalse(first.contains(token), "the client's token must not reach the origin");
        assertEquals(first, second, "a minted token is reused well inside its lifetime");

        sessions.delete(sid);
        assertEquals(401, get("verify-bearer", token).statusCode(), "revocation is unchanged");
    }

    @Test
    void sealedCredentialsAreStillAcceptedButOnlyTheUserNameIsUsed() throws Exception {
        Sessions sessions = new Sessions(redis);
        String sid = Sessions.newSid();
        String token = sessions.create(sid, "bob:bobs-password");
        HttpResponse<String> verified = get("verify-bearer", token);
        assertEquals(200, verified.statusCode());
        assertEquals("bob", new JsonObject(verified.body()).getString("user"));
        String echoed = get("echo", token).body();
        assertFalse(echoed.contains(Base64.getEncoder().encodeToString("bob:bobs-password".getBytes())), "password sent");
        assertFalse(echoed.contains("Basic "), "Basic sent in cyrus-jwt mode");
    }

    @Test
    void sessionWithNeitherUserNorCredentialsIsRejected() throws Exception {
        Sessions sessions = new Sessions(redis);
        String sid = Sessions.newSid();
        sessions.storeRaw(sid, "{\"user\":\"ali:ce\"}");
        HttpResponse<String> response = get("echo", sessions.token(sid, 600));
        assertEquals(401, response.statusCode());
        assertEquals("bad_credentials", new JsonObject(response.body()).getString("reason"));
    }
}
