package org.jmapauthproxy.token;

import com.sun.net.httpserver.HttpServer;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.RSAPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.jmapauthproxy.support.Jwts.claims;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code authproxy.jwt.public-key} as a URL, against a real HTTP server publishing a JWK set. */
class TokenVerifierKeyEndpointTest {

    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
    private static final Duration FAST = Duration.ofMillis(100);

    private record Answer(int status, String body) {
    }

    private final AtomicReference<Answer> answer = new AtomicReference<>();
    private final AtomicInteger fetches = new AtomicInteger();
    private HttpServer server;
    private String url;

    @BeforeEach
    void startServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/keys", exchange -> {
            fetches.incrementAndGet();
            Answer now = answer.get();
            byte[] body = now.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/jwk-set+json");
            exchange.sendResponseHeaders(now.status(), body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort() + "/keys";
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    @Test
    void keyAtAUrlIsFetchedOnceAtStartAndVerifiesRs256Tokens() throws Exception {
        KeyPair pair = rsa();
        answer.set(new Answer(200, jwks(pair, "k1")));
        try (TokenVerifier verifier = new TokenVerifier(TestJwtSettings.rs256(url), Clock.systemUTC())) {
            assertEquals(1, fetches.get());
            assertEquals("with-kid", verifier.verify(rs256(pair, "k1", "with-kid")).sessionId());
            assertEquals("no-kid", verifier.verify(rs256(pair, null, "no-kid")).sessionId());
            assertEquals(1, fetches.get(), "verification must not fetch the key");
        }
    }

    @Test
    void startFailsNamingTheSettingAndHostWhenTheKeyCannotBeFetched() throws Exception {
        answer.set(new Answer(404, "no such key"));
        IllegalStateException notFound = assertThrows(IllegalStateException.class,
                () -> new TokenVerifier(TestJwtSettings.rs256(url), Clock.systemUTC()));
        assertEquals("authproxy.jwt.public-key: cannot fetch the key from host 127.0.0.1: HTTP 404", notFound.getMessage());

        answer.set(new Answer(200, "<html>sign in first</html>"));
        IllegalStateException notAKey = assertThrows(IllegalStateException.class,
                () -> new TokenVerifier(TestJwtSettings.rs256(url), Clock.systemUTC()));
        assertTrue(notAKey.getMessage().startsWith("authproxy.jwt.public-key: cannot fetch the key from host 127.0.0.1: "),
                notAKey.getMessage());
        assertFalse(notAKey.getMessage().contains("sign in"), notAKey.getMessage());

        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        String nowhere = "http://127.0.0.1:" + closedPort + "/keys";
        IllegalStateException unreachable = assertThrows(IllegalStateException.class,
                () -> new TokenVerifier(TestJwtSettings.rs256(nowhere), Clock.systemUTC()));
        assertTrue(unreachable.getMessage().startsWith("authproxy.jwt.public-key: cannot fetch the key from host 127.0.0.1: "),
                unreachable.getMessage());
    }

    @Test
    void rotatedKeyIsPickedUpByTheRefreshAndTokensOfTheOldKeyStopVerifying() throws Exception {
        KeyPair old = rsa();
        KeyPair rotated = rsa();
        answer.set(new Answer(200, jwks(old, "k1")));
        try (TokenVerifier verifier = new TokenVerifier(TestJwtSettings.rs256(url), Clock.systemUTC(), FAST)) {
            String oldToken = rs256(old, "k1", "old");
            assertEquals("old", verifier.verify(oldToken).sessionId());
            assertEquals(1, verifier.cached());

            answer.set(new Answer(200, jwks(rotated, "k1")));
            String newToken = rs256(rotated, "k1", "new");
            awaitTrue(() -> verifies(verifier, newToken));

            ProxyFailure failure = assertThrows(ProxyFailure.class, () -> verifier.verify(oldToken));
            assertEquals("bad signature", failure.getMessage());
        }
    }

    @Test
    void failedRefreshKeepsTheKeyInUseAndWarnsWithoutTheKey() throws Exception {
        KeyPair pair = rsa();
        String published = jwks(pair, "k1");
        String modulus = B64URL.encodeToString(unsigned(((RSAPublicKey) pair.getPublic()).getModulus()));
        answer.set(new Answer(200, published));
        try (LogCapture logs = new LogCapture();
             TokenVerifier verifier = new TokenVerifier(TestJwtSettings.rs256(url), Clock.systemUTC(), FAST)) {
            answer.set(new Answer(500, published));
            awaitTrue(() -> logs.lines().stream().anyMatch(l -> l.contains("HTTP 500")));
            answer.set(new Answer(200, "{\"keys\":[]}"));
            awaitTrue(() -> logs.lines().stream().anyMatch(l -> l.contains("not a PEM public key")));

            assertEquals("still", verifier.verify(rs256(pair, "k1", "still")).sessionId());
            String warning = logs.lines().stream().filter(l -> l.contains("HTTP 500")).findFirst().orElseThrow();
            assertTrue(warning.contains("authproxy.jwt.public-key") && warning.contains("127.0.0.1"), warning);
            // The verifier's own lines; at ALL level the JDK's HttpClient logs the URL itself.
            List<String> ours = logs.lines().stream().filter(l -> l.contains("authproxy.jwt.public-key")).toList();
            assertFalse(ours.isEmpty());
            assertTrue(ours.stream().noneMatch(l -> l.contains(modulus) || l.contains("/keys")), ours.toString());
        }
    }

    private static boolean verifies(TokenVerifier verifier, String token) {
        try {
            verifier.verify(token);
            return true;
        } catch (ProxyFailure notYet) {
            return false;
        }
    }

    private static void awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 10 s");
            }
            Thread.sleep(20);
        }
    }

    private static KeyPair rsa() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static String jwks(KeyPair pair, String kid) {
        RSAPublicKey key = (RSAPublicKey) pair.getPublic();
        return "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"" + kid + "\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\""
                + B64URL.encodeToString(unsigned(key.getModulus())) + "\",\"e\":\""
                + B64URL.encodeToString(unsigned(key.getPublicExponent())) + "\"}]}";
    }

    /** RFC 7518 §6.3.1: the unsigned big-endian value, without the sign byte BigInteger may add. */
    private static byte[] unsigned(BigInteger value) {
        byte[] bytes = value.toByteArray();
        return bytes[0] == 0 ? Arrays.copyOfRange(bytes, 1, bytes.length) : bytes;
    }

    private static String rs256(KeyPair pair, String kid, String sid) throws GeneralSecurityException {
        String header = kid == null ? "{\"alg\":\"RS256\"}" : "{\"alg\":\"RS256\",\"kid\":\"" + kid + "\"}";
        String input = B64URL.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + B64URL.encodeToString(claims(sid, 600, null).getBytes(StandardCharsets.UTF_8));
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(pair.getPrivate());
        signature.update(input.getBytes(StandardCharsets.US_ASCII));
        return input + "." + B64URL.encodeToString(signature.sign());
    }
}
