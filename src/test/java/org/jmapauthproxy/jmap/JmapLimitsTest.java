package org.jmapauthproxy.jmap;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.Jwts;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JMAP limits the origin advertises, enforced per user at the proxy. Each test is its own user
 * (a fresh token subject), whose session document, fetched first, advertises small limits.
 */
@QuarkusTest
@WithTestResource(RealServers.class)
class JmapLimitsTest {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @Inject
    org.jmapauthproxy.route.InFlight inFlight;

    @TestHTTPResource(value = "metrics", management = true)
    URL metrics;

    Sessions sessions;
    String token;

    @BeforeEach
    void setUp() {
        sessions = new Sessions(redis);
        String sid = Sessions.newSid();
        sessions.create(sid, "alice:alicepw");
        token = Jwts.hs512("{\"sub\":\"limited-" + UUID.randomUUID() + "\",\"sid\":\"" + sid + "\",\"exp\":"
                + (Jwts.now() + 600) + "}", sessions.secret());
    }

    RawHttp.Response request(RawHttp raw, String method, String path, String extra, byte[] body) throws IOException {
        raw.send(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + base.getPort() + "\r\nAuthorization: Bearer "
                + token + "\r\n" + extra + "\r\n");
        if (body != null) {
            raw.send(body);
        }
        return raw.read();
    }

    RawHttp.Response request(String method, String path, String extra, byte[] body) throws IOException {
        try (RawHttp raw = new RawHttp(base.getPort())) {
            return request(raw, method, path, extra, body);
        }
    }

    void learn(String limits) throws IOException {
        assertEquals(200, request("GET", "/jmap/?" + limits, "", null).status());
    }

    RawHttp.Response post(String path, byte[] body) throws IOException {
        return request("POST", path, "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n", body);
    }

    static byte[] mailboxGet(int padding) {
        return ("{\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:mail\"],\"methodCalls\":"
                + "[[\"Mailbox/get\",{\"accountId\":\"alice\",\"pad\":\"" + "x".repeat(padding) + "\"},\"c0\"]]}")
                .getBytes(StandardCharsets.UTF_8);
    }

    static void assertLimit(RawHttp.Response response, String limit) {
        assertEquals(400, response.status(), response.text());
        assertEquals("application/problem+json", response.first("content-type"));
        JsonObject problem = new JsonObject(response.text());
        assertEquals("urn:ietf:params:jmap:error:limit", problem.getString("type"));
        assertEquals(limit, problem.getString("limit"));
        assertEquals(400, problem.getInteger("status"));
        assertEquals("jmap_limit", problem.getString("reason"));
    }

    double refusals(String limit) throws IOException {
        try (InputStream in = metrics.openStream()) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("(?m)^authproxy_jmap_limit_refusals_total\\{limit=\"" + limit + "\",?} (\\S+)$").matcher(text);
            assertTrue(m.find(), "no counter for " + limit + ": " + text.lines().filter(l -> l.contains("jmap")).toList());
            return Double.parseDouble(m.group(1));
        }
    }

    @Test
    void withoutASessionSeenNoLimitApplies() throws Exception {
        assertEquals(200, post("/jmap/", mailboxGet(5000)).status());
    }

    @Test
    void declaredRequestOverMaxSizeRequestIsRefusedBeforeTheOrigin() throws Exception {
        learn("maxSizeRequest=1000");
        double before = refusals("maxSizeRequest");
        RawHttp.Response small = post("/jmap/", mailboxGet(10));
        assertEquals(200, small.status(), small.text());
        assertEquals("Mailbox/get", new JsonObject(small.text()).getJsonArray("methodResponses").getJsonArray(0).getString(0));
        request("GET", "/origin-log?clear", "", null);
        assertLimit(post("/jmap/", mailboxGet(2000)), "maxSizeRequest");
        assertEquals("[]", request("GET", "/origin-log", "", null).text(), "nothing reached the origin");
        assertEquals(before + 1, refusals("maxSizeRequest"));
        assertEquals(200, post("/jmap/upload/alice/", mailboxGet(2000)).status(), "maxSizeRequest is for the API URL only");
    }

    @Test
    void chunkedRequestIsCutWhereItPassesMaxSizeRequest() throws Exception {
        learn("maxSizeRequest=1000");
        try (RawHttp raw = new RawHttp(base.getPort())) {
            byte[] chunk = "x".repeat(600).getBytes(StandardCharsets.US_ASCII);
            raw.send("POST /jmap/ HTTP/1.1\r\nHost: 127.0.0.1:" + base.getPort() + "\r\nAuthorization: Bearer " + token
                    + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
            raw.send(("258\r\n" + new String(chunk, StandardCharsets.US_ASCII) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            raw.send(("258\r\n" + new String(chunk, StandardCharsets.US_ASCII) + "\r\n0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertLimit(raw.read(), "maxSizeRequest");
        }
    }

    /** Cyrus decodes every percent escape of a path before it matches it: so does the limit check. */
    @Test
    void percentEncodedApiAndUploadPathsMeetTheSameLimits() throws Exception {
        learn("maxSizeRequest=1000");
        request("GET", "/origin-log?clear", "", null);
        for (String api : List.of("/%6Amap/", "/%6a%6D%61%70/", "/jmap%2F", "/%6Amap")) {
            assertLimit(post(api, mailboxGet(2000)), "maxSizeRequest");
        }
        assertEquals("[]", request("GET", "/origin-log", "", null).text(), "nothing reached the origin");
        learn("maxSizeUpload=100");
        request("GET", "/origin-log?clear", "", null);
        for (String upload : List.of("/jmap/%75pload/alice/", "/jmap%2Fupload/alice/", "/%6Amap/upload%2Falice/")) {
            assertLimit(post(upload, new byte[101]), "maxSizeUpload");
        }
        assertEquals("[]", request("GET", "/origin-log", "", null).text(), "nothing reached the origin");
        assertEquals(200, post("/jmap/%75pload/alice/", new byte[100]).status(), "within the limit, passed on as sent");
    }

    @Test
    void uploadOverMaxSizeUploadIsRefusedAndApiCallsAreNot() throws Exception {
        learn("maxSizeUpload=100");
        assertEquals(200, post("/jmap/upload/alice/", new byte[100]).status());
        assertLimit(post("/jmap/upload/alice/", new byte[101]), "maxSizeUpload");
        assertEquals(200, post("/jmap/", mailboxGet(200)).status());
    }

    @Test
    void concurrentApiRequestsPastTheLimitAreRefusedAndTheSlotFreesOnCompletion() throws Exception {
        learn("maxConcurrentRequests=1");
        double before = refusals("maxConcurrentRequests");
        try (RawHttp held = new RawHttp(base.getPort())) {
            holdApiRequest(held);
            assertLimit(post("/jmap/", mailboxGet(10)), "maxConcurrentRequests");
            assertEquals(200, post("/jmap/upload/alice/", new byte[10]).status(), "uploads are counted apart");
            assertEquals("1", request("GET", "/origin-release", "", null).text());
            assertEquals(200, held.read().status());
        }
        assertEquals(200, post("/jmap/", mailboxGet(10)).status(), "the slot is free again");
        assertEquals(before + 1, refusals("maxConcurrentRequests"));
    }

    /** Sends an API request on {@code held} that the origin holds, and waits until the origin has it. */
    private void holdApiRequest(RawHttp held) throws Exception {
        byte[] body = mailboxGet(10);
        held.send("POST /jmap/?hold HTTP/1.1\r\nHost: 127.0.0.1:" + base.getPort() + "\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n");
        held.send(body);
        assertEquals("1", request("GET", "/origin-await-held?count=1", "", null).text());
    }

    @Test
    void aBodyTheOriginBreaksOffFreesTheSlot() throws Exception {
        learn("maxConcurrentRequests=1");
        try (RawHttp held = new RawHttp(base.getPort())) {
            holdApiRequest(held);
            assertEquals(200, held.readHead().status(), "the head is out before the origin breaks off");
            assertEquals("1", request("GET", "/origin-release?cut", "", null).text());
            RawHttp.Stream rest = held.readStreamUntilEnd(20_000);
            assertTrue(rest.ended(), "the client's connection is closed");
            assertFalse(rest.text().endsWith("0\r\n\r\n"), "a cut body must not look complete: " + rest.text());
        }
        // The proxy reset the client's response, for which Vert.x reports no end: the request must still
        // leave the in-flight count (a drain waits for it) and free its slot.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (inFlight.count() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(0, inFlight.count(), "requests in flight");
        assertEquals(200, post("/jmap/", mailboxGet(10)).status(), "the slot is free again");
    }

    @Test
    void concurrentUploadsPastTheLimitAreRefused() throws Exception {
        learn("maxConcurrentUpload=1");
        try (RawHttp held = new RawHttp(base.getPort())) {
            held.send("POST /jmap/upload/alice/?hold HTTP/1.1\r\nHost: 127.0.0.1:" + base.getPort()
                    + "\r\nAuthorization: Bearer " + token + "\r\nContent-Length: 3\r\n\r\nabc");
            assertEquals("1", request("GET", "/origin-await-held?count=1", "", null).text());
            assertLimit(post("/jmap/upload/alice/", new byte[3]), "maxConcurrentUpload");
            assertEquals(200, post("/jmap/", mailboxGet(10)).status(), "API calls are counted apart");
            request("GET", "/origin-release", "", null);
            assertEquals(200, held.read().status());
        }
        assertEquals(200, post("/jmap/upload/alice/", new byte[3]).status());
    }

    @Test
    void aNewerSessionDocumentReplacesTheLimits() throws Exception {
        learn("maxSizeRequest=100");
        assertLimit(post("/jmap/", mailboxGet(200)), "maxSizeRequest");
        learn("maxSizeRequest=100000");
        assertEquals(200, post("/jmap/", mailboxGet(200)).status());
        learn("");
        assertEquals(200, post("/jmap/", mailboxGet(5000)).status(), "a session without the limit lifts it");
    }

    @Test
    void theGlobalCeilingStillAppliesAboveTheAdvertisedUploadSize() throws Exception {
        learn("maxSizeUpload=1073741824");
        RawHttp.Response response = request("POST", "/jmap/upload/alice/", "Content-Length: " + (512L << 20) + "\r\n", null);
        assertEquals(413, response.status());
        assertEquals("upload_too_large", new JsonObject(response.text()).getString("reason"));
        assertNull(new JsonObject(response.text()).getString("limit"));
    }
}
