package org.jmapauthproxy.e2e;

import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;

import static org.jmapauthproxy.e2e.JmapClient.invocation;
import static org.jmapauthproxy.e2e.JmapClient.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code authproxy.origin.auth=cyrus-jwt} against a real Cyrus 3.6 that verifies the proxy's minted
 * HS256 bearer itself ({@code http_jwt_key_dir}): sessions in Redis name only the user, and no
 * password exists anywhere. Needs the Cyrus of {@code e2e/cyrus/start-cyrus.sh} and read access to its
 * key file; run with {@code ./mvnw verify -Pcyrus-e2e}.
 */
@QuarkusTest
@WithTestResource(value = CyrusOrigin.class, initArgs = @ResourceArg(name = "auth", value = "cyrus-jwt"))
class CyrusJwtE2ETest extends E2EFixture {

    @Test
    void sessionNamingOnlyTheUserDrivesAFullJmapSession() throws Exception {
        JmapClient alice = loginWithoutPassword("alice");
        JsonObject session = alice.discover();
        assertEquals("alice", session.getString("username"), "Cyrus took the minted token's sub as the user");
        assertSessionUrlsUnderTheProxy(session, proxyBase());

        String inbox = inboxId(alice);
        JsonObject mailboxes = alice.call(new JsonArray().add(invocation("Mailbox/get",
                new JsonObject().put("accountId", alice.mailAccount()).put("ids", new JsonArray().add(inbox)), "g")));
        assertEquals("inbox", result(mailboxes, "Mailbox/get", "g").getJsonArray("list").getJsonObject(0).getString("role"));

        assertBlobRoundTrip(alice, 3 * 1024 * 1024 + 5);
    }

    @Test
    void messageDeliveredToAliceIsReadWithAMintedToken() throws Exception {
        String subject = "e2e jwt " + UUID.randomUUID();
        CyrusOrigin.deliver("bob@localhost", "alice", "From: Bob <bob@localhost>\r\nTo: alice@localhost\r\n"
                + "Subject: " + subject + "\r\nMessage-ID: <" + UUID.randomUUID() + "@e2e.localhost>\r\n\r\nminted\r\n");
        JmapClient alice = loginWithoutPassword("alice");
        alice.discover();
        JsonObject response = newestInInbox(alice, new JsonObject().put("properties", new JsonArray().add("subject")));
        boolean found = result(response, "Email/get", "g").getJsonArray("list").stream()
                .anyMatch(email -> subject.equals(((JsonObject) email).getString("subject")));
        assertTrue(found, "the delivered message is not among the newest in the inbox: " + response.encode());
    }

    @Test
    void bobsMintedTokenCannotReadAlicesBlob() throws Exception {
        JmapClient alice = loginWithoutPassword("alice");
        alice.discover();
        String blobId = ownersBlob(alice, ("for alice only " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8));

        JmapClient bob = loginWithoutPassword("bob");
        bob.discover();
        assertEquals("bob", bob.session().getString("username"));
        assertBlobUnreachable(bob, blobId, List.of(alice.mailAccount(), bob.mailAccount()), "for alice only");
    }

    @Test
    void sealedCredentialsWithAWrongPasswordStillWorkBecauseOnlyTheUserNameIsUsed() throws Exception {
        // In basic mode Cyrus would refuse this password (see CyrusE2ETest); here no password is sent.
        JmapClient alice = login("alice", "not-alices-password");
        assertEquals("alice", alice.discover().getString("username"));
    }

    @Test
    void expiredTokenIsRejectedWith401InvalidToken() throws Exception {
        String sid = Sessions.newSid();
        sessions.storeRaw(sid, new JsonObject().put("user", "alice").encode());
        HttpResponse<byte[]> response = new JmapClient(proxyBase(), sessions.token(sid, -120)).get(proxyBase() + "/jmap/");
        assertEquals(401, response.statusCode());
        assertEquals(List.of("Bearer realm=\"jmap\", error=\"invalid_token\""), response.headers().allValues("WWW-Authenticate"));
    }
}
