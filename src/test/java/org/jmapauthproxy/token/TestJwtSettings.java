package org.jmapauthproxy.token;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** {@link JwtSettings} for unit tests. */
final class TestJwtSettings {

    static final String SECRET = "unit-secret-unit-secret-unit-secret-unit-secret-unit-secret-00000";

    private TestJwtSettings() {
    }

    static JwtSettings hs512() {
        return new JwtSettings("HS512", Optional.of(SECRET), false, Optional.empty(), "sid", Duration.ofSeconds(30),
                Optional.empty(), Optional.empty(), 100, 1 << 20);
    }

    static JwtSettings withIssuerAndAudience(JwtSettings s, String iss, String aud) {
        return new JwtSettings(s.algorithm(), s.secret(), s.allowShortSecret(), s.publicKey(), s.sessionClaim(),
                s.leeway(), Optional.of(iss), Optional.of(List.of(aud)), s.cacheSize(), s.cacheMaxBytes());
    }

    static JwtSettings withSecret(JwtSettings s, String secret, boolean allowShort) {
        return new JwtSettings(s.algorithm(), Optional.of(secret), allowShort, s.publicKey(), s.sessionClaim(),
                s.leeway(), s.issuer(), s.audience(), s.cacheSize(), s.cacheMaxBytes());
    }

    static JwtSettings rs256(String publicKeyPem) {
        return new JwtSettings("RS256", Optional.empty(), false, Optional.of(publicKeyPem), "sid", Duration.ofSeconds(30),
                Optional.empty(), Optional.empty(), 100, 1 << 20);
    }
}
