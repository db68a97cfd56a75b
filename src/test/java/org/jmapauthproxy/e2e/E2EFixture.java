package org.jmapauthproxy.e2e;

import io.quarkus.redis.datasource.RedisDataSource;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.BeforeEach;

import java.net.URL;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

import static org.jmapauthproxy.e2e.JmapClient.invocation;
import static org.jmapauthproxy.e2e.JmapClient.result;
import static org.jmapauthproxy.e2e.JmapClient.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every end-to-end test against Cyrus starts from: the proxy's address, sessions written into
 * the proxy's Redis the way a login back-end does, and the JMAP steps and checks the tests share.
 * Subclasses are {@code @QuarkusTest}s with {@link CyrusOrigin} as their test resource.
 */
abstract class E2EFixture {

    static final SecureRandom RANDOM = new SecureRandom();

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    Sessions sessions;

    @BeforeEach
    void sessions() {
        sessions = new Sessions(redis);
    }

    /** {@code http://host:port} of the proxy, without a trailing slash. */
    String proxyBase() {
        return "http://" + base.getHost() + ":" + base.getPort();
    }

    /** A client of a new session holding {@code user}'s Basic credentials, sealed. */
    JmapClient login(String user, String password) {
        return new JmapClient(proxyBase(), sessions.create(Sessions.newSid(), user + ":" + password));
    }

    /** A session as a password-less login back-end writes it: {@code {"user": name}} and nothing else. */
    JmapClient loginWithoutPassword(String user) {
        String sid = Sessions.newSid();
        sessions.storeRaw(sid, new JsonObject().put("user", user).encode());
        return new JmapClient(proxyBase(), sessions.token(sid, 600));
    }

    static void assertSessionUrlsUnderTheProxy(JsonObject session, String proxyBase) {
        for (String property : List.of("apiUrl", "downloadUrl", "uploadUrl", "eventSourceUrl")) {
            String url = session.getString(property);
            assertNotNull(url, property + " missing");
            assertTrue(url.startsWith(proxyBase + "/jmap/"), property + " is not under the proxy: " + url);
        }
        assertTrue(session.getString("downloadUrl").contains("{accountId}") && session.getString("downloadUrl").contains("{blobId}"),
                "download template braces were lost: " + session.getString("downloadUrl"));
        assertTrue(session.getString("uploadUrl").contains("{accountId}"), session.getString("uploadUrl"));
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    static String inboxId(JmapClient client) throws Exception {
        JsonObject response = client.call(new JsonArray().add(invocation("Mailbox/get",
                new JsonObject().put("accountId", client.mailAccount()).put("properties", new JsonArray().add("name").add("role")), "m")));
        for (Object mailbox : result(response, "Mailbox/get", "m").getJsonArray("list")) {
            if ("inbox".equals(((JsonObject) mailbox).getString("role"))) {
                return ((JsonObject) mailbox).getString("id");
            }
        }
        throw new AssertionError("no mailbox with role inbox: " + response.encode());
    }

    /**
     * The newest 50 messages of the inbox: {@code Email/query} (call id {@code q}) and, on its ids,
     * {@code Email/get} (call id {@code g}) with {@code getArguments}. Cyrus 3.6 without a search
     * engine fails text filters (serverFail), so tests pick their message out of these.
     */
    static JsonObject newestInInbox(JmapClient client, JsonObject getArguments) throws Exception {
        String account = client.mailAccount();
        return client.call(new JsonArray()
                .add(invocation("Email/query", new JsonObject().put("accountId", account)
                        .put("filter", new JsonObject().put("inMailbox", inboxId(client)))
                        .put("sort", new JsonArray().add(new JsonObject().put("property", "receivedAt").put("isAscending", false)))
                        .put("limit", 50), "q"))
                .add(invocation("Email/get", getArguments.copy().put("accountId", account)
                        .put("#ids", new JsonObject().put("resultOf", "q").put("name", "Email/query").put("path", "/ids")), "g")));
    }

    /** Uploads random bytes, downloads them through the session's templates and compares digests. */
    static void assertBlobRoundTrip(JmapClient client, int size) throws Exception {
        byte[] body = new byte[size];
        RANDOM.nextBytes(body);
        HttpResponse<byte[]> uploaded = client.upload(client.mailAccount(), body, "application/octet-stream");
        assertEquals(201, uploaded.statusCode(), text(uploaded));
        JsonObject blob = new JsonObject(text(uploaded));
        assertEquals(size, blob.getLong("size"));
        assertEquals(client.mailAccount(), blob.getString("accountId"));

        HttpResponse<byte[]> downloaded = client.download(client.mailAccount(), blob.getString("blobId"), "random.bin",
                "application/octet-stream");
        assertEquals(200, downloaded.statusCode());
        assertEquals(size, downloaded.body().length);
        assertEquals(sha256(body), sha256(downloaded.body()), "downloaded blob differs from the upload");
        assertEquals("application/octet-stream", downloaded.headers().firstValue("Content-Type").orElse(null));
    }

    /** Uploads {@code content} as text into the owner's account; returns its blob id once the owner can read it. */
    static String ownersBlob(JmapClient owner, byte[] content) throws Exception {
        HttpResponse<byte[]> uploaded = owner.upload(owner.mailAccount(), content, "text/plain");
        assertEquals(201, uploaded.statusCode(), text(uploaded));
        String blobId = new JsonObject(text(uploaded)).getString("blobId");
        assertEquals(200, owner.download(owner.mailAccount(), blobId, "a.txt", "text/plain").statusCode(),
                "the owner must be able to read it, or the refusals that follow prove nothing");
        return blobId;
    }

    /** {@code other} gets neither the blob nor its {@code content} through any of {@code accounts}. */
    static void assertBlobUnreachable(JmapClient other, String blobId, List<String> accounts, String content) throws Exception {
        for (String account : accounts) {
            HttpResponse<byte[]> stolen = other.download(account, blobId, "a.txt", "text/plain");
            assertTrue(stolen.statusCode() == 404 || stolen.statusCode() == 403,
                    other.session().getString("username") + " downloading the blob via account " + account
                            + " got " + stolen.statusCode());
            assertFalse(text(stolen).contains(content));
        }
    }
}
