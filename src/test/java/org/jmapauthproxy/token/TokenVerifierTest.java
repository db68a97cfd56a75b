package org.jmapauthproxy.token;

import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.support.Jwts;
import org.jmapauthproxy.support.SettableClock;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.jmapauthproxy.support.Jwts.claims;
import static org.jmapauthproxy.support.Jwts.hs512;

class TokenVerifierTest {

    static final String SECRET = TestJwtSettings.SECRET;
    final TokenVerifier verifier = new TokenVerifier(TestJwtSettings.hs512(), Clock.systemUTC());

    private void rejected(String token, String detail) {
        rejected(verifier, token, detail);
    }

    private static void rejected(TokenVerifier verifier, String token, String detail) {
        ProxyFailure failure = assertThrows(ProxyFailure.class, () -> verifier.verify(token));
        assertEquals(ProxyFailure.Reason.INVALID_TOKEN, failure.reason());
        assertEquals(detail, failure.getMessage());
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
        rejected(hs512(claims("s-3", -120, null), SECRET), "token expired");
    }

    @Test
    void cachedTokenIsRejectedOnceExpired() throws Exception {
        SettableClock clock = new SettableClock(System.currentTimeMillis());
        TokenVerifier cached = new TokenVerifier(TestJwtSettings.hs512(), clock);
        String token = hs512(claims("s-4", 5, null), SECRET);
        assertEquals("s-4", cached.verify(token).sessionId());
        assertEquals(1, cached.cached());
        clock.advance(60_000);
        rejected(cached, token, "token expired");
    }

    @Test
    void anExpiredTokenLeavesTheCacheAndTheCacheStaysWithinItsSize() {
        SettableClock clock = new SettableClock(System.currentTimeMillis());
        TokenVerifier cached = new TokenVerifier(TestJwtSettings.hs512(), clock);
        cached.verify(hs512(claims("short", 5, null), SECRET));
        clock.advance(60_000);
        cached.verify(hs512(claims("long", 3600, null), SECRET));
        assertEquals(1, cached.cached(), "the token past its exp is dropped when the next one is remembered");
        for (int i = 0; i < 3 * TestJwtSettings.hs512().cacheSize(); i++) {
            cached.verify(hs512(claims("s-" + i, 3600, null), SECRET));
        }
        assertEquals(TestJwtSettings.hs512().cacheSize(), cached.cached());
    }

    @Test
    void missingExpIsRejectedNamingExp() {
        rejected(hs512("{\"sid\":\"s\"}", SECRET), "missing claim exp");
    }

    @Test
    void missingOrEmptySessionClaimIsRejectedNamingTheClaim() {
        rejected(hs512("{\"exp\":" + (Jwts.now() + 60) + "}", SECRET), "missing claim sid");
        rejected(hs512("{\"sid\":\"\",\"exp\":" + (Jwts.now() + 60) + "}", SECRET), "missing claim sid");
    }

    @Test
    void nonStringSessionClaimIsRejected() {
        rejected(hs512("{\"sid\":42,\"exp\":" + (Jwts.now() + 60) + "}", SECRET), "claim sid is not a string");
    }

    @Test
    void notYetValidTokenIsRejected() {
        rejected(hs512(claims("s", 600, "\"nbf\":" + (Jwts.now() + 300)), SECRET), "token not yet valid (nbf)");
        assertEquals("s", verifier.verify(hs512(claims("s", 600, "\"nbf\":" + (Jwts.now() + 5)), SECRET)).sessionId());
    }

    @Test
    void wrongSignatureIsRejected() {
        rejected(hs512(claims("s", 600, null), SECRET.replace('u', 'x')), "bad signature");
    }

    @Test
    void badSignatureIsToldBeforeTheClaimsOfTheUnverifiedToken() {
        rejected(hs512(claims("s", -600, null), SECRET.replace('u', 'x')), "bad signature");
    }

    @Test
    void algNoneIsRejected() {
        String header = Base64.getUrlEncoder().withoutPadding().encodeToString("{\"alg\":\"none\"}".getBytes());
        String payload = Base64.getUrlEncoder().withoutPadding().encodeToString(claims("s", 600, null).getBytes());
        rejected(header + "." + payload + ".", "algorithm not accepted");
        rejected(header + "." + payload + ".c2ln", "algorithm not accepted");
    }

    @Test
    void otherHmacAlgorithmWithTheSameSecretIsRejected() {
        rejected(Jwts.hmac("HmacSHA256", "{\"alg\":\"HS256\"}", claims("s", 600, null), SECRET.getBytes(StandardCharsets.UTF_8)),
                "algorithm not accepted");
    }

    @Test
    void unknownCriticalHeaderIsRejected() {
        rejected(Jwts.hmac("HmacSHA512", "{\"alg\":\"HS512\",\"crit\":[\"x-unknown\"],\"x-unknown\":1}",
                claims("s", 600, null), SECRET.getBytes(StandardCharsets.UTF_8)), "malformed token");
    }

    @Test
    void tokenThatIsNotAJwsIsMalformed() {
        rejected("a.b.c", "malformed token");
        rejected(Jwts.hmac("HmacSHA512", "{\"alg\":\"HS512\"}", "{not json", SECRET.getBytes(StandardCharsets.UTF_8)), "malformed token");
    }

    @Test
    void issuerAndAudienceAreEnforcedWhenConfigured() {
        TokenVerifier strict = new TokenVerifier(TestJwtSettings.withIssuerAndAudience(TestJwtSettings.hs512(), "login", "jmap"), Clock.systemUTC());
        assertEquals("s", strict.verify(hs512(claims("s", 600, "\"iss\":\"login\",\"aud\":\"jmap\""), SECRET)).sessionId());
        rejected(strict, hs512(claims("s", 600, "\"iss\":\"evil\",\"aud\":\"jmap\""), SECRET), "issuer not accepted");
        rejected(strict, hs512(claims("s", 600, "\"iss\":\"login\",\"aud\":\"web\""), SECRET), "audience not accepted");
        rejected(strict, hs512(claims("s", 600, "\"iss\":\"login\""), SECRET), "audience not accepted");
        rejected(strict, hs512(claims("s", 600, null), SECRET), "issuer not accepted");
    }

    @Test
    void shortSecretWorksOnlyWhenAllowed() {
        String shortSecret = "short-secret-of-32-bytes-long!!!";
        TokenVerifier relaxed = new TokenVerifier(TestJwtSettings.withSecret(TestJwtSettings.hs512(), shortSecret, true), Clock.systemUTC());
        assertEquals("s", relaxed.verify(hs512(claims("s", 600, null), shortSecret)).sessionId());
        TokenVerifier strict = new TokenVerifier(TestJwtSettings.withSecret(TestJwtSettings.hs512(), shortSecret, false), Clock.systemUTC());
        rejected(strict, hs512(claims("s", 600, null), shortSecret), "verification key not usable");
    }

    @Test
    void rs256VerifiesWithPublicKeyAndRefusesHmacSignedWithThatKey() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair pair = generator.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(pair.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----";
        TokenVerifier rsa = new TokenVerifier(TestJwtSettings.rs256(pem), Clock.systemUTC());
        Base64.Encoder url = Base64.getUrlEncoder().withoutPadding();
        String input = url.encodeToString("{\"alg\":\"RS256\"}".getBytes()) + "." + url.encodeToString(claims("rs", 600, null).getBytes());
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(pair.getPrivate());
        signature.update(input.getBytes(StandardCharsets.US_ASCII));
        assertEquals("rs", rsa.verify(input + "." + url.encodeToString(signature.sign())).sessionId());
        // Algorithm confusion: an HMAC keyed with the public key's bytes must not pass as RS256.
        String confused = Jwts.hmac("HmacSHA256", "{\"alg\":\"HS256\"}", claims("rs", 600, null), pem.getBytes(StandardCharsets.UTF_8));
        rejected(rsa, confused, "algorithm not accepted");
    }

    @Test
    void neitherDetailNorAnyLogLineCarriesTheRejectedTokensSessionIdOrSubject() {
        String sid = "sid-d0e5-not-for-logs";
        String sub = "sub-7c1b-not-for-logs";
        long now = Jwts.now();
        String base = "\"sid\":\"" + sid + "\",\"sub\":\"" + sub + "\"";
        byte[] key = SECRET.getBytes(StandardCharsets.UTF_8);
        TokenVerifier strict = new TokenVerifier(TestJwtSettings.withIssuerAndAudience(TestJwtSettings.hs512(), "login", "jmap"), Clock.systemUTC());
        List<String> anywhere = List.of(
                hs512("{" + base + ",\"exp\":" + (now - 600) + "}", SECRET),
                hs512("{" + base + ",\"exp\":" + (now + 600) + ",\"nbf\":" + (now + 300) + "}", SECRET),
                hs512("{" + base + ",\"exp\":" + (now + 600) + "}", SECRET.replace('u', 'x')),
                hs512("{" + base + "}", SECRET),
                hs512("{\"sub\":\"" + sub + "\",\"exp\":" + (now + 600) + "}", SECRET),
                hs512("{" + base + ",\"exp\":\"" + sid + "\"}", SECRET),
                Jwts.hmac("HmacSHA256", "{\"alg\":\"HS256\"}", "{" + base + ",\"exp\":" + (now + 600) + "}", key),
                Jwts.hmac("HmacSHA512", "{\"alg\":\"HS512\",\"crit\":[\"" + sid + "\"]}", "{" + base + ",\"exp\":" + (now + 600) + "}", key));
        List<String> strictOnly = List.of(
                hs512("{" + base + ",\"exp\":" + (now + 600) + ",\"iss\":\"" + sid + "\",\"aud\":\"jmap\"}", SECRET),
                hs512("{" + base + ",\"exp\":" + (now + 600) + ",\"iss\":\"login\",\"aud\":\"" + sid + "\"}", SECRET));
        List<String> seen = new ArrayList<>();
        try (LogCapture logs = new LogCapture()) {
            for (String token : anywhere) {
                seen.add(assertThrows(ProxyFailure.class, () -> verifier.verify(token)).getMessage());
                seen.add(assertThrows(ProxyFailure.class, () -> strict.verify(token)).getMessage());
            }
            for (String token : strictOnly) {
                seen.add(assertThrows(ProxyFailure.class, () -> strict.verify(token)).getMessage());
            }
            seen.addAll(logs.lines());
            assertTrue(logs.lines().stream().anyMatch(l -> l.contains("token rejected")), "DEBUG lines were not captured: " + logs.lines());
        }
        for (String line : seen) {
            assertFalse(line.contains(sid) || line.contains(sub), line);
        }
    }

    @Test
    void aTokenSharingACachedTokensSignatureButNotItsClaimsIsNotTakenFromTheCache() {
        String valid = hs512(claims("s-victim", 600, null), SECRET);
        assertEquals("s-victim", verifier.verify(valid).sessionId());
        // The cache hashes a token's last characters (its signature): a forgery that keeps the
        // signature and swaps the claims lands on the cached entry's hash and must still be checked.
        String[] parts = valid.split("\\.");
        String otherClaims = Base64.getUrlEncoder().withoutPadding().encodeToString(
                claims("s-attacker", 600, null).getBytes(StandardCharsets.UTF_8));
        String forged = parts[0] + "." + otherClaims + "." + parts[2];
        assertEquals(new TokenVerifier.TokenKey(valid).hashCode(), new TokenVerifier.TokenKey(forged).hashCode());
        rejected(forged, "bad signature");
        assertEquals("s-victim", verifier.verify(valid).sessionId(), "the genuine token still verifies");
    }

    @Test
    void aTokenKeyNamesNoTokenWhenPrinted() {
        String valid = hs512(claims("s-print", 600, null), SECRET);
        String printed = new TokenVerifier.TokenKey(valid).toString();
        assertFalse(printed.contains(valid.substring(valid.length() - 16)), printed);
        assertFalse(printed.contains(valid.substring(0, 16)), printed);
    }
}
