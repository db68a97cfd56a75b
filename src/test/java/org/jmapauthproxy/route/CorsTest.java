package org.jmapauthproxy.route;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.PageServers;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URL;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CORS answered by the proxy, over raw HTTP: preflights, actual responses, problems, disallowed origins. */
@QuarkusTest
@WithTestResource(RealServers.class)
@WithTestResource(PageServers.class)
class CorsTest {

    static final String ALLOWED = PageServers.RAW_ALLOWED;

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    Sessions sessions;
    String token;

    @BeforeEach
    void setUp() {
        sessions = new Sessions(redis);
        token = sessions.create(Sessions.newSid(), "alice:alicepw");
    }

    RawHttp.Response send(String method, String path, String headers) throws IOException {
        try (RawHttp raw = new RawHttp(base.getPort())) {
            raw.send(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + base.getPort() + "\r\n" + headers + "\r\n");
            return raw.read();
        }
    }

    JsonArray originLog() throws IOException {
        return new JsonArray(send("GET", "/origin-log?clear", "Authorization: Bearer " + token + "\r\n").text());
    }

    @Test
    void preflightFromAnAllowedOriginIsAnsweredByTheProxyWithoutTokenOrOrigin() throws Exception {
        originLog();
        RawHttp.Response response = send("OPTIONS", "/jmap/", "Origin: " + ALLOWED + "\r\n"
                + "Access-Control-Request-Method: POST\r\n"
                + "Access-Control-Request-Headers: authorization, content-type, x-evil\r\n");
        assertEquals(204, response.status());
        assertEquals(ALLOWED, response.first("access-control-allow-origin"));
        assertEquals("true", response.first("access-control-allow-credentials"));
        assertTrue(response.first("access-control-allow-methods").contains("POST"));
        assertTrue(response.first("access-control-allow-methods").contains("PROPFIND"));
        assertTrue(response.first("access-control-allow-methods").contains("REPORT"));
        assertEquals("authorization, content-type", response.first("access-control-allow-headers"));
        assertEquals("300", response.first("access-control-max-age"));
        assertTrue(response.first("vary").contains("Origin"));
        assertNull(response.first("www-authenticate"));
        assertNull(response.first("content-length"), "a 204 carries no Content-Length (RFC 9110 §8.6)");
        assertEquals(0, originLog().size(), "nothing reached the origin");
    }

    @Test
    void preflightAndConnectionStayUsableForTheActualRequest() throws Exception {
        try (RawHttp raw = new RawHttp(base.getPort())) {
            String host = "Host: 127.0.0.1:" + base.getPort() + "\r\n";
            raw.send("OPTIONS /jmap/ HTTP/1.1\r\n" + host + "Origin: " + ALLOWED + "\r\nAccess-Control-Request-Method: GET\r\n\r\n");
            assertEquals(204, raw.read().status());
            raw.send("GET /jmap/ HTTP/1.1\r\n" + host + "Origin: " + ALLOWED + "\r\nAuthorization: Bearer " + token + "\r\n\r\n");
            RawHttp.Response session = raw.read();
            assertEquals(200, session.status());
            assertEquals(ALLOWED, session.first("access-control-allow-origin"));
        }
    }

    @Test
    void actualResponsesToAnAllowedOriginCarryCorsHeadersReplacingTheOrigins() throws Exception {
        RawHttp.Response response = send("GET", "/origin-cors", "Origin: " + ALLOWED + "\r\nAuthorization: Bearer " + token + "\r\n");
        assertEquals(200, response.status());
        assertEquals(java.util.List.of(ALLOWED), response.all("access-control-allow-origin"));
        assertEquals("true", response.first("access-control-allow-credentials"));
        String exposed = response.first("access-control-expose-headers");
        for (String name : new String[]{"Location", "X-Request-Id", "Retry-After", "WWW-Authenticate"}) {
            assertTrue(exposed.contains(name), exposed);
        }
        assertFalse(exposed.contains("X-Origin-Only"), "the origin's own CORS headers are replaced");
        assertNull(response.first("access-control-allow-methods"));
        assertTrue(String.join(",", response.all("vary")).contains("Origin"));
        assertTrue(String.join(",", response.all("vary")).contains("Accept-Encoding"));
    }

    @Test
    void problemResponsesToAnAllowedOriginAreReadableByTheBrowser() throws Exception {
        RawHttp.Response response = send("GET", "/jmap/", "Origin: " + ALLOWED + "\r\n");
        assertEquals(401, response.status());
        assertEquals(ALLOWED, response.first("access-control-allow-origin"));
        assertEquals("true", response.first("access-control-allow-credentials"));
        assertTrue(response.first("access-control-expose-headers").contains("WWW-Authenticate"));
        assertEquals("no_token", new JsonObject(response.text()).getString("reason"));
    }

    @Test
    void aDisallowedOriginGetsNoCorsHeadersAndItsPreflightNeedsAToken() throws Exception {
        originLog();
        RawHttp.Response preflight = send("OPTIONS", "/jmap/", "Origin: https://evil.example\r\n"
                + "Access-Control-Request-Method: POST\r\n");
        assertEquals(401, preflight.status());
        assertNull(preflight.first("access-control-allow-origin"));
        RawHttp.Response actual = send("GET", "/origin-cors", "Origin: https://evil.example\r\nAuthorization: Bearer " + token + "\r\n");
        assertEquals(200, actual.status());
        assertNull(actual.first("access-control-allow-origin"), "not even the origin's own");
        assertNull(actual.first("access-control-expose-headers"));
        JsonArray log = originLog();
        assertEquals(1, log.size(), "the refused preflight never reached the origin");
        assertEquals("GET", log.getJsonObject(0).getString("method"));
    }

    @Test
    void originsCompareExactly() throws Exception {
        RawHttp.Response response = send("OPTIONS", "/jmap/", "Origin: " + ALLOWED + ":443\r\n"
                + "Access-Control-Request-Method: GET\r\n");
        assertEquals(401, response.status());
        assertNull(response.first("access-control-allow-origin"));
    }

    @Test
    void anOptionsRequestWithATokenButNoPreflightHeadersIsProxied() throws Exception {
        RawHttp.Response response = send("OPTIONS", "/echo", "Origin: " + ALLOWED + "\r\nAuthorization: Bearer " + token + "\r\n");
        assertEquals(200, response.status());
        assertEquals("OPTIONS", new JsonObject(response.text()).getString("method"));
        assertEquals(ALLOWED, response.first("access-control-allow-origin"));
    }
}
