package org.jmapauthproxy.token;

import org.jmapauthproxy.config.ProxyConfig;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A {@link ProxyConfig.Jwt} for unit tests. */
record JwtSettings(String algorithm, Optional<String> secret, boolean allowShortSecret, Optional<String> publicKey,
                   String sessionClaim, Duration leeway, Optional<String> issuer, Optional<List<String>> audience,
                   int cacheSize) implements ProxyConfig.Jwt {

    static final String SECRET = "unit-secret-unit-secret-unit-secret-unit-secret-unit-secret-00000";

    static JwtSettings hs512() {
        return new JwtSettings("HS512", Optional.of(SECRET), false, Optional.empty(), "sid", Duration.ofSeconds(30),
                Optional.empty(), Optional.empty(), 100);
    }

    JwtSettings withIssuerAndAudience(String iss, String aud) {
        return new JwtSettings(algorithm, secret, allowShortSecret, publicKey, sessionClaim, leeway,
                Optional.of(iss), Optional.of(List.of(aud)), cacheSize);
    }

    JwtSettings withSecret(String s, boolean allowShort) {
        return new JwtSettings(algorithm, Optional.of(s), allowShort, publicKey, sessionClaim, leeway, issuer, audience, cacheSize);
    }

    static JwtSettings rs256(String publicKeyPem) {
        return new JwtSettings("RS256", Optional.empty(), false, Optional.of(publicKeyPem), "sid", Duration.ofSeconds(30),
                Optional.empty(), Optional.empty(), 100);
    }
}
