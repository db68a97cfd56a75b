package org.jmapauthproxy.token;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What the token step needs to know ({@code authproxy.jwt.*}), handed over by whoever assembles it.
 *
 * @param algorithm        {@code HS512}, {@code RS256} or {@code ES256}
 * @param publicKey        a PEM key, or an http(s) URL where it is published
 * @param sessionClaim     the claim that holds the session id
 * @param leeway           clock skew allowed on {@code exp} and {@code nbf}
 * @param cacheSize        verified tokens remembered (0: none)
 * @param cacheMaxBytes    bytes the remembered tokens may take at most
 */
public record JwtSettings(String algorithm, Optional<String> secret, boolean allowShortSecret, Optional<String> publicKey,
                          String sessionClaim, Duration leeway, Optional<String> issuer, Optional<List<String>> audience,
                          int cacheSize, long cacheMaxBytes) {
}
