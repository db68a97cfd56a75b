package org.jmapauthproxy.credential;

import com.github.benmanes.caffeine.cache.Cache;
import org.jmapauthproxy.exchange.BoundedCache;
import org.jmapauthproxy.token.HmacJwtSigner;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * Mints the short-lived bearer tokens that Cyrus verifies itself ({@code http_jwt_key_dir}), so that
 * no user password is needed anywhere.
 *
 * <p>Cyrus 3.6 ({@code imap/http_jwt.c}) accepts only the header {@code {"alg":"HS256","typ":"JWT"}}
 * and only the claims {@code sub}, {@code iat}, {@code exp}, {@code nbf}; it refuses a token whose
 * {@code iat} is older than {@code http_jwt_max_age}. A token is reused per user while it is younger
 * than that age minus a margin, which saves an HMAC per request without ever sending a stale one.
 *
 * <p>The minted tokens are remembered in a {@link BoundedCache} of {@code cacheSize} users and
 * {@code cacheMaxBytes} bytes (each entry weighs its user name and token, but at least {@code
 * cacheMaxBytes / cacheSize}, under a total weight of {@code cacheMaxBytes}); an entry expires, on the
 * minter's clock, at the end of its reuse horizon, the last second in which it may still be sent.
 */
public final class CyrusTokenMinter {

    private static final String PEM_BEGIN = "-----BEGIN HMAC KEY-----";
    private static final String PEM_END = "-----END HMAC KEY-----";

    private record Minted(String authorization, long issuedAt) {
    }

    private final HmacJwtSigner signer;
    private final long reuseSeconds;
    private final Long lifetimeSeconds;
    private final Clock clock;
    private final Cache<String, Minted> minted;

    /**
     * @param key           the HMAC key (the bytes inside Cyrus's PEM file)
     * @param maxAge        Cyrus's {@code http_jwt_max_age}
     * @param reuseMargin   a token is not reused once it is older than {@code maxAge - reuseMargin}
     * @param lifetime      adds {@code exp = iat + lifetime} when present
     * @param cacheSize     users whose token is remembered at most
     * @param cacheMaxBytes bytes the remembered tokens may take at most
     */
    public CyrusTokenMinter(byte[] key, Duration maxAge, Duration reuseMargin, Optional<Duration> lifetime,
                            Clock clock, int cacheSize, long cacheMaxBytes) {
        this.signer = new HmacJwtSigner("HS256", key);
        this.reuseSeconds = Math.max(0, maxAge.minus(reuseMargin).toSeconds());
        this.lifetimeSeconds = lifetime.map(Duration::toSeconds).orElse(null);
        this.clock = clock;
        this.minted = BoundedCache.expiringAt(BoundedCache.builder(cacheSize, cacheMaxBytes,
                        (String user, Minted token) -> BoundedCache.bytes(user) + BoundedCache.bytes(token.authorization())),
                clock, (user, token) -> (token.issuedAt() + reuseSeconds + 1) * 1000).build();
    }

    /** Reads a key file in Cyrus's PEM form: {@code BEGIN HMAC KEY}, base64 lines, {@code END HMAC KEY}. */
    public static byte[] readKeyFile(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        int begin = text.indexOf(PEM_BEGIN);
        int end = text.indexOf(PEM_END);
        if (begin < 0 || end < begin) {
            throw new IOException("not an HMAC KEY PEM file");
        }
        String body = text.substring(begin + PEM_BEGIN.length(), end).replaceAll("\\s", "");
        try {
            byte[] key = Base64.getDecoder().decode(body);
            if (key.length == 0) {
                throw new IOException("empty HMAC key");
            }
            return key;
        } catch (IllegalArgumentException e) {
            throw new IOException("HMAC key is not base64");
        }
    }

    /** The {@code Authorization} value for {@code username}: {@code Bearer <jwt>}. */
    public OriginCredential credentialFor(String username) {
        long now = clock.millis() / 1000;
        Minted current = minted.getIfPresent(username);
        // Checked here as well as by the cache's expiry: a clock set back must not reuse a token
        // issued "in the future", which Cyrus would refuse.
        if (current == null || now - current.issuedAt() > reuseSeconds || now < current.issuedAt()) {
            current = new Minted("Bearer " + mint(username, now), now);
            minted.put(username, current);
        }
        return new OriginCredential(username, current.authorization());
    }

    /** The compact token for {@code username} issued at {@code issuedAt} (seconds), byte for byte. */
    public String mint(String username, long issuedAt) {
        StringBuilder claims = new StringBuilder(64).append("{\"sub\":");
        HmacJwtSigner.appendJsonString(claims, username);
        claims.append(",\"iat\":").append(issuedAt);
        if (lifetimeSeconds != null) {
            claims.append(",\"exp\":").append(issuedAt + lifetimeSeconds);
        }
        return signer.sign(claims.append('}').toString());
    }
}
