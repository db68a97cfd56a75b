package org.jmapauthproxy.token;

import org.jmapauthproxy.route.ProxyFailure;
import org.jmapauthproxy.support.Jwts;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Clock;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.jmapauthproxy.support.Jwts.claims;
import static org.jmapauthproxy.support.Jwts.hs512;

class TokenVerifierTest {

    static final String SECRET = JwtSettings.SECRET;
    final TokenVerifier verifier = new TokenVerifier(JwtSettings.hs512(), Clock.systemUTC());

    private void rejected(String token) {
        ProxyFailure failure = assertThrows(ProxyFailure.class, () -> verifier.verify(token));
        assertEquals(ProxyFailure.Reason.INVALID_TOKEN, failure.reason());
    }

    @Test
    void validTokenGivesSessionAndSubject() {
        SessionToken token = verifier.verify(hs512(claims("s-1", 600, null), SECRET));
        assertEquals("s-1", token.sessionId());
        assertEquals("alice", token.subject());
    }

    @Test
    void tokenWithoutIatOrSubIsAcceptedAsHyperAuthProxyWroteThem() {
        long exp = Jwts.now() + 600;
        assertEquals("s-2", verifier.verify(hs512("{\"sid\":\"s-2\",\"exp\":" + exp + "}", SECRET)).sessionId());
    }

    @Test
    void expiredTokenIsRejectedBeyondLeewayOnly() {
        assertEquals("s-3", verifier.verify(hs512(claims("s-3", -10, null), SECRET)).sessionId());
        rejected(hs512(claims("s-3", -120, null), SECRET));
    }

    @Test
    void cachedTokenIsRejectedOnceExpired() throws Exception {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(System.currentTimeMillis());
        Clock clock = new Clock() {
            public java.time.ZoneId getZone() { return java.time.ZoneOffset.UTC; }
            public Clock withZone(java.time.ZoneId zone) { return this; }
            public java.time.Instant instant() { return java.time.Instant.ofEpochMilli(now.get()); }
        };
        TokenVerifier cached = new TokenVerifier(JwtSettings.hs512(), clock);
        String token = hs512(claims("s-4", 5, null), SECRET);
        assertEquals("s-4", cached.verify(token).sessionId());
        assertEquals(1, cached.cached());
        now.addAndGet(60_000);
        assertThrows(ProxyFailure.class, () -> cached.verify(token));
    }

    @Test
    void missingExpOrSessionClaimIsRejected() {
        rejected(hs512("{\"sid\":\"s\"}", SECRET));
        rejected(hs512("{\"exp\":" + (Jwts.now() + 60) + "}", SECRET));
        rejected(hs512("{\"sid\":42,\"exp\":" + (Jwts.now() + 60) + "}", SECRET));
    }

    @Test
    void notYetValidTokenIsRejected() {
        rejected(hs512(claims("s", 600, "\"nbf\":" + (Jwts.now() + 300)), SECRET));
        assertEquals("s", verifier.verify(hs512(claims("s", 600, "\"nbf\":" + (Jwts.now() + 5)), SECRET)).sessionId());
    }

    @Test
    void wrongSignatureIsRejected() {
        rejected(hs512(claims("s", 600, null), SECRET.replace('u', 'x')));
    }

    @Test
    void algNoneIsRejected() {
        String header = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes());
        String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(claims("s", 600, null).getBytes());
        rejected(header + "." + payload + ".");
        rejected(header + "." + payload + ".c2ln");
    }

    @Test
    void otherHmacAlgorithmWithTheSameSecretIsRejected() {
        rejected(Jwts.hmac("HmacSHA256", "{\"alg\":\"HS256\"}", claims("s", 600, null), SECRET.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void unknownCriticalHeaderIsRejected() {
        rejected(Jwts.hmac("HmacSHA512", "{\"alg\":\"HS512\",\"crit\":[\"x-unknown\"],\"x-unknown\":1}",
                claims("s", 600, null), SECRET.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void issuerAndAudienceAreEnforcedWhenConfigured() {
        TokenVerifier strict = new TokenVerifier(JwtSettings.hs512().withIssuerAndAudience("login", "jmap"), Clock.systemUTC());
        assertEquals("s", strict.verify(hs512(claims("s", 600, "\"iss\":\"login\",\"aud\":\"jmap\""), SECRET)).sessionId());
        assertThrows(ProxyFailure.class, () -> strict.verify(hs512(claims("s", 600, "\"iss\":\"evil\",\"aud\":\"jmap\""), SECRET)));
        assertThrows(ProxyFailure.class, () -> strict.verify(hs512(claims("s", 600, "\"iss\":\"login\",\"aud\":\"web\""), SECRET)));
        assertThrows(ProxyFailure.class, () -> strict.verify(hs512(claims("s", 600, null), SECRET)));
    }

    @Test
    void shortSecretWorksOnlyWhenAllowed() {
        String shortSecret = "short-secret-of-32-bytes-long!!!";
        TokenVerifier relaxed = new TokenVerifier(JwtSettings.hs512().withSecret(shortSecret, true), Clock.systemUTC());
        assertEquals("s", relaxed.verify(hs512(claims("s", 600, null), shortSecret)).sessionId());
        TokenVerifier strict = new TokenVerifier(JwtSettings.hs512().withSecret(shortSecret, false), Clock.systemUTC());
        assertThrows(ProxyFailure.class, () -> strict.verify(hs512(claims("s", 600, null), shortSecret)));
    }

    @Test
    void rs256VerifiesWithPublicKeyAndRefusesHmacSignedWithThatKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair pair = generator.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(pair.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----";
        TokenVerifier rsa = new TokenVerifier(JwtSettings.rs256(pem), Clock.systemUTC());
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String input = url.encodeToString("{\"alg\":\"RS256\"}".getBytes()) + "." + url.encodeToString(claims("rs", 600, null).getBytes());
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(pair.getPrivate());
        signature.update(input.getBytes(StandardCharsets.US_ASCII));
        assertEquals("rs", rsa.verify(input + "." + url.encodeToString(signature.sign())).sessionId());
        // Algorithm confusion: an HMAC keyed with the public key's bytes must not pass as RS256.
        String confused = Jwts.hmac("HmacSHA256", "{\"alg\":\"HS256\"}", claims("rs", 600, null), pem.getBytes(StandardCharsets.UTF_8));
        assertThrows(ProxyFailure.class, () -> rsa.verify(confused));
    }
}
