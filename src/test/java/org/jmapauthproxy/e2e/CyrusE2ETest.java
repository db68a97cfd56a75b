package org.jmapauthproxy.e2e;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.zip.GZIPInputStream;
import java.util.zip.InflaterInputStream;

import static org.jmapauthproxy.e2e.JmapClient.invocation;
import static org.jmapauthproxy.e2e.JmapClient.result;
import static org.jmapauthproxy.e2e.JmapClient.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy in front of a real Cyrus 3.6 with Basic credentials sealed in a real Redis: what a
 * browser JMAP client does, from discovery to blobs. Needs the Cyrus of {@code e2e/cyrus/start-cyrus.sh};
 * run with {@code ./mvnw verify -Pcyrus-e2e} (the default build leaves this package out).
 */
@QuarkusTest
@WithTestResource(CyrusOrigin.class)
class CyrusE2ETest extends E2EFixture {

    @Test
    void wellKnownRedirectsToTheProxyAndTheSessionUrlsAreAbsoluteUnderIt() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        JsonObject session = alice.discover();
        assertEquals("alice", session.getString("username"));
        assertSessionUrlsUnderTheProxy(session, proxyBase());
        assertEquals(proxyBase() + "/jmap/", session.getString("apiUrl"));
        assertTrue(session.getJsonObject("accounts").containsKey(alice.mailAccount()), session.encode());
        assertTrue(session.getJsonObject("capabilities").containsKey(JmapClient.CORE));
    }

    @Test
    void mailboxGetFindsTheInboxByRole() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        alice.discover();
        String inbox = inboxId(alice);
        assertFalse(inbox.isBlank());
        JsonObject response = alice.call(new JsonArray().add(invocation("Mailbox/get",
                new JsonObject().put("accountId", alice.mailAccount()).put("ids", new JsonArray().add(inbox)), "g")));
        JsonObject mailbox = result(response, "Mailbox/get", "g").getJsonArray("list").getJsonObject(0);
        assertEquals(inbox, mailbox.getString("id"));
        assertEquals("inbox", mailbox.getString("role"));
    }

    @Test
    void messageDeliveredToAliceIsFoundWithEmailQueryAndGetAndItsBlobDownloads() throws Exception {
        String subject = "e2e " + UUID.randomUUID();
        CyrusOrigin.deliver("bob@localhost", "alice", "From: Bob <bob@localhost>\r\nTo: Alice <alice@localhost>\r\n"
                + "Subject: " + subject + "\r\nMessage-ID: <" + UUID.randomUUID() + "@e2e.localhost>\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\n\r\nHello Alice, this is " + subject + ".\r\n");

        JmapClient alice = login("alice", "alicepw");
        alice.discover();
        String account = alice.mailAccount();
        JsonObject response = newestInInbox(alice, new JsonObject()
                .put("properties", new JsonArray().add("subject").add("from").add("blobId").add("bodyValues").add("textBody"))
                .put("fetchTextBodyValues", true));
        assertFalse(result(response, "Email/query", "q").getJsonArray("ids").isEmpty());
        JsonObject email = null;
        for (Object candidate : result(response, "Email/get", "g").getJsonArray("list")) {
            if (subject.equals(((JsonObject) candidate).getString("subject"))) {
                email = (JsonObject) candidate;
            }
        }
        assertNotNull(email, "the delivered message is not among the newest in the inbox: " + response.encode());
        assertEquals("bob@localhost", email.getJsonArray("from").getJsonObject(0).getString("email"));
        String partId = email.getJsonArray("textBody").getJsonObject(0).getString("partId");
        assertTrue(email.getJsonObject("bodyValues").getJsonObject(partId).getString("value").contains("this is " + subject));

        HttpResponse<byte[]> raw = alice.download(account, email.getString("blobId"), "message.eml", "message/rfc822");
        assertEquals(200, raw.statusCode());
        assertTrue(text(raw).contains("Subject: " + subject + "\r\n"), text(raw));
    }

    @Test
    void blobOf4MiBRoundTripsThroughUploadAndDownloadUrls() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        alice.discover();
        assertBlobRoundTrip(alice, 4 * 1024 * 1024 + 17);
    }

    @Test
    void chunkedUploadWithoutContentLengthArrivesWhole() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        alice.discover();
        byte[] body = new byte[2 * 1024 * 1024 + 3];
        RANDOM.nextBytes(body);
        HttpResponse<byte[]> uploaded = alice.uploadChunked(alice.mailAccount(), body, "application/octet-stream");
        assertEquals(201, uploaded.statusCode(), text(uploaded));
        assertEquals(body.length, new JsonObject(text(uploaded)).getLong("size"));
        HttpResponse<byte[]> downloaded = alice.download(alice.mailAccount(), new JsonObject(text(uploaded)).getString("blobId"),
                "chunked.bin", "application/octet-stream");
        assertEquals(200, downloaded.statusCode());
        assertEquals(sha256(body), sha256(downloaded.body()));
    }

    @Test
    void bobCannotDownloadAlicesBlobOrUploadIntoHerAccount() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        alice.discover();
        String blobId = ownersBlob(alice, ("alice's private blob " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));

        JmapClient bob = login("bob", "bobpw");
        bob.discover();
        assertEquals("bob", bob.session().getString("username"));
        assertFalse(bob.session().getJsonObject("accounts").containsKey(alice.mailAccount()), bob.session().encode());
        assertBlobUnreachable(bob, blobId, List.of(alice.mailAccount(), bob.mailAccount()), "alice's private blob");
        HttpResponse<byte[]> planted = bob.upload(alice.mailAccount(), "planted".getBytes(StandardCharsets.UTF_8), "text/plain");
        assertTrue(planted.statusCode() == 404 || planted.statusCode() == 403,
                "bob uploading into alice's account got " + planted.statusCode());
    }

    @Test
    void expiredTokenIsRejectedWith401InvalidTokenBeforeCyrus() throws Exception {
        String sid = Sessions.newSid();
        sessions.create(sid, "alice:alicepw");
        JmapClient expired = new JmapClient(proxyBase(), sessions.token(sid, -120));
        HttpResponse<byte[]> response = expired.get(proxyBase() + "/jmap/");
        assertEquals(401, response.statusCode());
        assertEquals("Bearer realm=\"jmap\", error=\"invalid_token\"", response.headers().firstValue("WWW-Authenticate").orElse(null));
        assertEquals(List.of("Bearer realm=\"jmap\", error=\"invalid_token\""), response.headers().allValues("WWW-Authenticate"),
                "Cyrus's Basic challenge would open a password dialog in a browser");
        assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(null));
        assertEquals("invalid_token", new JsonObject(text(response)).getString("reason"));
    }

    @Test
    void sessionWhosePasswordCyrusRejectsGetsTheProxysBearerChallenge() throws Exception {
        JmapClient stale = login("alice", "not-alices-password");
        HttpResponse<byte[]> response = stale.get(proxyBase() + "/jmap/");
        assertEquals(401, response.statusCode());
        for (String challenge : response.headers().allValues("WWW-Authenticate")) {
            assertTrue(challenge.startsWith("Bearer realm=\"jmap\""), "Cyrus's challenge reached the client: " + challenge);
        }
        assertEquals("application/problem+json", response.headers().firstValue("Content-Type").orElse(null));
    }

    @Test
    void deletedSessionIsRefusedWithinOneSecondEvenAfterUse() throws Exception {
        String sid = Sessions.newSid();
        JmapClient alice = new JmapClient(proxyBase(), sessions.create(sid, "alice:alicepw"));
        for (int i = 0; i < 3; i++) {
            assertEquals(200, alice.get(proxyBase() + "/jmap/").statusCode());
        }
        sessions.delete(sid);
        // The proxy may remember the sealed session until Redis's invalidation arrives (README).
        long start = System.nanoTime();
        HttpResponse<byte[]> response;
        while ((response = alice.get(proxyBase() + "/jmap/")).statusCode() != 401) {
            assertEquals(200, response.statusCode());
            assertTrue(System.nanoTime() - start < 1_000_000_000L, "a deleted session still reached Cyrus after 1 s");
            Thread.sleep(5);
        }
        assertEquals("unknown_session", new JsonObject(text(response)).getString("reason"));
    }

    @Test
    void gzippedSessionDecodesAndHasAbsoluteUrls() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        HttpResponse<byte[]> response = alice.get(proxyBase() + "/jmap", "Accept-Encoding", "gzip");
        assertEquals(200, response.statusCode());
        assertEquals("gzip", response.headers().firstValue("Content-Encoding").orElse(null), "Cyrus gzips for clients that ask");
        assertEquals(Integer.toString(response.body().length), response.headers().firstValue("Content-Length").orElse(null),
                "Content-Length of the re-encoded body");
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(response.body()))) {
            JsonObject session = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            assertSessionUrlsUnderTheProxy(session, proxyBase());
        }
    }

    /**
     * Browsers send {@code Accept-Encoding: gzip, deflate, br, zstd}, and Cyrus 3.6 answers with the
     * best it has (zstd, else br). The proxy must still hand out a session it has rebased: it may only
     * offer Cyrus codings it can decode and encode again.
     */
    @Test
    void sessionForABrowsersAcceptEncodingIsStillRebasedOntoTheProxy() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        for (String acceptEncoding : List.of("gzip, deflate, br, zstd", "gzip, deflate, br")) {
            HttpResponse<byte[]> response = alice.get(proxyBase() + "/jmap", "Accept-Encoding", acceptEncoding);
            assertEquals(200, response.statusCode());
            String coding = response.headers().firstValue("Content-Encoding").orElse("identity").toLowerCase(Locale.ROOT);
            assertTrue(List.of("identity", "gzip", "deflate").contains(coding),
                    "Accept-Encoding: " + acceptEncoding + " got a session in " + coding
                            + ", which the proxy cannot rewrite: its URLs stay Cyrus's relative paths");
            byte[] body = "gzip".equals(coding) ? new GZIPInputStream(new ByteArrayInputStream(response.body())).readAllBytes()
                    : "deflate".equals(coding) ? new InflaterInputStream(new ByteArrayInputStream(response.body())).readAllBytes()
                    : response.body();
            assertSessionUrlsUnderTheProxy(new JsonObject(new String(body, StandardCharsets.UTF_8)), proxyBase());
        }
    }

    @Test
    void tokenInACookieIsEnoughAndOtherCookiesDoNotDisturbCyrus() throws Exception {
        String token = sessions.create(Sessions.newSid(), "alice:alicepw");
        JmapClient browser = new JmapClient(proxyBase(), null);
        HttpResponse<byte[]> response = browser.get(proxyBase() + "/jmap/", "Cookie", "theme=dark; Authorization=" + token);
        assertEquals(200, response.statusCode(), text(response));
        assertEquals("alice", new JsonObject(text(response)).getString("username"));
        assertSessionUrlsUnderTheProxy(new JsonObject(text(response)), proxyBase());
    }

    @Test
    void eventSourceAnswerOfThisCyrusBuildPassesThroughPromptly() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        alice.discover();
        String url = JmapClient.expand(alice.session().getString("eventSourceUrl"),
                Map.of("types", "*", "closeafter", "no", "ping", "30"));
        long start = System.nanoTime();
        HttpResponse<byte[]> response = alice.get(url, "Accept", "text/event-stream");
        // Debian's Cyrus is built without wslay: push is disabled and EventSource answers 204 at once.
        assertEquals(204, response.statusCode());
        assertTrue((System.nanoTime() - start) / 1_000_000 < 5_000, "the empty answer was held back");
    }

    @Test
    void maxSizeRequestThatCyrusAdvertisesIsEnforcedAtTheProxy() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        JsonObject session = alice.discover();
        long max = session.getJsonObject("capabilities").getJsonObject("urn:ietf:params:jmap:core").getLong("maxSizeRequest");
        try (org.jmapauthproxy.support.RawHttp raw = new org.jmapauthproxy.support.RawHttp(base.getPort())) {
            raw.send("POST /jmap/ HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort() + "\r\nAuthorization: Bearer "
                    + alice.token() + "\r\nContent-Type: application/json\r\nContent-Length: " + (max + 1) + "\r\n\r\n");
            org.jmapauthproxy.support.RawHttp.Response refused = raw.read();
            assertEquals(400, refused.status(), refused.text());
            JsonObject problem = new JsonObject(refused.text());
            assertEquals("urn:ietf:params:jmap:error:limit", problem.getString("type"));
            assertEquals("maxSizeRequest", problem.getString("limit"));
        }
        assertNotNull(inboxId(alice), "requests within the limit still work");
    }

    /** Cyrus decodes a path's percent escapes before it matches it, so the proxy's limits must too. */
    @Test
    void percentEncodedApiPathReachesCyrusApiAndMeetsItsLimit() throws Exception {
        JmapClient alice = login("alice", "alicepw");
        JsonObject session = alice.discover();
        long max = session.getJsonObject("capabilities").getJsonObject("urn:ietf:params:jmap:core").getLong("maxSizeRequest");
        String call = "{\"using\":[\"urn:ietf:params:jmap:core\"],\"methodCalls\":[[\"Core/echo\",{\"hello\":true},\"0\"]]}";
        String head = "POST /%6Amap/ HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort() + "\r\nAuthorization: Bearer "
                + alice.token() + "\r\nContent-Type: application/json\r\nContent-Length: ";
        try (org.jmapauthproxy.support.RawHttp raw = new org.jmapauthproxy.support.RawHttp(base.getPort())) {
            raw.send(head + call.length() + "\r\n\r\n" + call);
            org.jmapauthproxy.support.RawHttp.Response answered = raw.read();
            assertEquals(200, answered.status(), answered.text());
            assertEquals("Core/echo", new JsonObject(answered.text()).getJsonArray("methodResponses").getJsonArray(0).getString(0),
                    "Cyrus took /%6Amap/ for its API URL");
        }
        try (org.jmapauthproxy.support.RawHttp raw = new org.jmapauthproxy.support.RawHttp(base.getPort())) {
            raw.send(head + (max + 1) + "\r\n\r\n");
            org.jmapauthproxy.support.RawHttp.Response refused = raw.read();
            assertEquals(400, refused.status(), refused.text());
            assertEquals("maxSizeRequest", new JsonObject(refused.text()).getString("limit"));
        }
    }
}
