package org.jmapauthproxy.cli;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.config.SmallRyeConfig;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jmapauthproxy.support.Jwts;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code session check} against the real Redis, with the running proxy's settings. */
@QuarkusTest
@WithTestResource(RealServers.class)
class SessionCheckTest {

    static final String PASSWORD = "s3cret-pw";

    @Inject
    RedisDataSource redis;

    Sessions sessions;

    @BeforeEach
    void setUp() {
        sessions = new Sessions(redis);
    }

    record Run(int status, String out, String err) {
    }

    Run check(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[args.length + 1];
        all[0] = "check";
        System.arraycopy(args, 0, all, 1, args.length);
        int status = SessionCommand.run((SmallRyeConfig) ConfigProvider.getConfig(),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), all);
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** Nothing secret in what the operator sees. */
    void assertNoSecrets(Run run, String token) {
        String all = run.out() + run.err();
        assertFalse(all.contains(PASSWORD), "password printed");
        assertFalse(all.contains(token), "token printed");
        assertFalse(all.contains(sessions.secret()), "jwt secret printed");
        assertFalse(all.contains(ConfigProvider.getConfig().getValue("authproxy.credentials.key", String.class)), "key printed");
        assertFalse(all.contains(Base64.getEncoder().encodeToString(("alice:" + PASSWORD).getBytes(StandardCharsets.UTF_8))),
                "encoded credentials printed");
    }

    @Test
    void aWorkingTokenAndSessionAreConfirmedWithoutShowingSecrets() {
        String sid = Sessions.newSid();
        String token = sessions.create(sid, "alice:" + PASSWORD);
        Run run = check(token + "\n");
        assertEquals(0, run.status(), run.out() + run.err());
        assertTrue(run.out().contains("token: valid, session " + sid), run.out());
        assertTrue(run.out().contains("credentials open for origin user alice"), run.out());
        assertTrue(run.out().contains("result: the proxy will accept"), run.out());
        assertNoSecrets(run, token);
    }

    @Test
    void tokenFileInHyperAuthProxysBase64CookieFormAndShellNewlineValueWork() throws Exception {
        String sid = Sessions.newSid();
        byte[] key = Base64.getDecoder().decode(ConfigProvider.getConfig().getValue("authproxy.credentials.key", String.class));
        sessions.store(sid, sessions.sealed(key, sid, "alice:" + PASSWORD) + "\n");
        String token = sessions.token(sid, 600);
        Path file = Files.createTempFile("token", ".txt");
        try {
            Files.writeString(file, Base64.getEncoder().encodeToString(("\"" + token + "\"").getBytes(StandardCharsets.US_ASCII)) + "\n");
            Run run = check("", "--token-file", file.toString());
            assertEquals(0, run.status(), run.out() + run.err());
            assertNoSecrets(run, token);
        } finally {
            Files.delete(file);
        }
    }

    @Test
    void aHyperAuthProxyTokenWithoutExpIsRefusedAndTheReasonNamed() {
        String sid = Sessions.newSid();
        sessions.create(sid, "alice:" + PASSWORD);
        long now = Jwts.now();
        String token = Jwts.hs512("{\"sub\":\"alice\",\"sid\":\"" + sid + "\",\"iat\":" + now + "}", sessions.secret());
        Run run = check(token, "--sid", sid);
        assertEquals(1, run.status(), run.out());
        assertTrue(run.out().contains("missing claim exp"), run.out());
        assertTrue(run.out().contains("requires it"), run.out());
        // The session is still checked through --sid, and is fine.
        assertTrue(run.out().contains("credentials open for origin user alice"), run.out());
        assertNoSecrets(run, token);
    }

    @Test
    void aTokenSignedWithAnotherSecretIsRefused() {
        String sid = Sessions.newSid();
        sessions.create(sid, "alice:" + PASSWORD);
        String token = Jwts.hs512(Jwts.claims(sid, 600, null), "another-secret-another-secret-another-secret-another-secret-000");
        Run run = check(token);
        assertEquals(1, run.status());
        assertTrue(run.out().contains("token: refused: bad signature"), run.out());
        assertNoSecrets(run, token);
    }

    @Test
    void unsealedHyperAuthProxyCredentialsAreRecognisedAndExplained() {
        String sid = Sessions.newSid();
        sessions.storeRaw(sid, new JsonObject().put("credentials",
                Base64.getEncoder().encodeToString(("alice:" + PASSWORD).getBytes(StandardCharsets.UTF_8)) + "\n").encode());
        String token = sessions.token(sid, 600);
        Run run = check(token);
        assertEquals(1, run.status());
        assertTrue(run.out().contains("credentials do not open"), run.out());
        assertTrue(run.out().contains("authproxy.credentials.encryption=none"), run.out());
        assertNoSecrets(run, token);
    }

    @Test
    void anUnknownSessionAndAMismatchedSidAreReported() {
        String token = sessions.token(Sessions.newSid(), 600);
        Run run = check(token, "--sid", "other-sid");
        assertEquals(1, run.status());
        assertTrue(run.out().contains("not --sid other-sid"), run.out());
        assertTrue(run.out().contains("no value at Redis key"), run.out());
        assertTrue(run.out().contains("unknown session"), run.out());
    }

    @Test
    void noTokenAndNoSidIsAUsageError() {
        Run run = check("");
        assertEquals(1, run.status());
        assertTrue(run.err().contains("give a token"), run.err());
        assertEquals(2, check("", "--sid").status());
    }
}
