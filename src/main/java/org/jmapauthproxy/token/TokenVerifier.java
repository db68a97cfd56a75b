package org.jmapauthproxy.token;

import com.github.benmanes.caffeine.cache.Cache;
import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.ParseException;
import jakarta.json.JsonString;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jmapauthproxy.exchange.BoundedCache;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;
import org.jboss.logging.Logger;
import org.jose4j.jwt.consumer.ErrorCodes;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.lang.InvalidAlgorithmException;
import org.jose4j.lang.InvalidKeyException;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Verifies session tokens with SmallRye JWT (jose4j underneath) and turns them into a
 * {@link SessionToken}.
 *
 * <p>Only the configured algorithm is accepted, which rules out {@code alg: none} and HMAC/RSA
 * confusion; jose4j rejects {@code crit} headers it does not understand. {@code exp} and the session
 * claim are required, {@code nbf} is enforced when present, {@code iss}/{@code aud} when configured.
 *
 * <p>A verified token is remembered by its exact string, because a webmail client sends the same
 * token on every request and an HMAC/RSA check per request is wasted work. The memory is a
 * {@link BoundedCache} of {@code cacheSize} tokens and {@code cacheMaxBytes} bytes (each entry weighs
 * its token string and claims, but at least {@code cacheMaxBytes / cacheSize}, under a total weight of
 * {@code cacheMaxBytes}); an entry expires at its token's {@code exp} plus the leeway, on the verifier's
 * clock, and expiry is checked again on every use, so a cached token never outlives its {@code exp}.
 *
 * <p>When {@code authproxy.jwt.public-key} is an http: or https: URL, the key is fetched here, at
 * start-up, and a start that cannot fetch it fails. A daemon thread fetches it again every
 * {@link #KEY_REFRESH}; a new key replaces the parser (and empties the cache), a failed fetch keeps
 * the key in use. SmallRye would otherwise fetch it lazily on the first token, under a lock, on the
 * event loop. {@link #close()} stops the refresh.
 */
public final class TokenVerifier implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TokenVerifier.class);
    private static final String MALFORMED = "malformed token";

    /** How often a key published at a URL is fetched again. */
    public static final Duration KEY_REFRESH = Duration.ofMinutes(10);

    private final JwtSettings config;
    private final String sessionClaim;
    private final long leewaySeconds;
    private final Clock clock;
    private final Cache<TokenKey, SessionToken> verified;
    private final PublicKeyEndpoint keyEndpoint;
    private final ScheduledExecutorService keyRefresh;
    // Written at construction, then only by the refresh thread.
    private String keyContent;
    private volatile DefaultJWTParser parser;

    /**
     * @throws IllegalStateException when the key is published at a URL and cannot be fetched
     */
    public TokenVerifier(JwtSettings config, Clock clock) {
        this(config, clock, KEY_REFRESH);
    }

    TokenVerifier(JwtSettings config, Clock clock, Duration keyRefreshInterval) {
        this.config = config;
        this.sessionClaim = config.sessionClaim();
        this.leewaySeconds = config.leeway().toSeconds();
        this.clock = clock;
        this.verified = BoundedCache.expiringAt(
                BoundedCache.builder(config.cacheSize(), config.cacheMaxBytes(), TokenVerifier::bytes), clock,
                (jwt, token) -> (token.expiresAt() + leewaySeconds + 1) * 1000).build();
        String location = config.publicKey().map(String::trim).orElse("");
        if (!isHmac(config) && PublicKeyEndpoint.isUrl(location)) {
            this.keyEndpoint = new PublicKeyEndpoint(URI.create(location), SignatureAlgorithm.fromAlgorithm(config.algorithm()));
            this.keyContent = fetchAtStart(keyEndpoint);
            this.parser = new DefaultJWTParser(contextInfo(config, keyContent));
            this.keyRefresh = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "jwt-key-refresh");
                thread.setDaemon(true);
                return thread;
            });
            long millis = keyRefreshInterval.toMillis();
            keyRefresh.scheduleWithFixedDelay(this::refreshKey, millis, millis, TimeUnit.MILLISECONDS);
        } else {
            this.keyEndpoint = null;
            this.keyRefresh = null;
            this.parser = new DefaultJWTParser(contextInfo(config, null));
        }
    }

    private static boolean isHmac(JwtSettings config) {
        return SignatureAlgorithm.fromAlgorithm(config.algorithm()) == SignatureAlgorithm.HS512;
    }

    private static String fetchAtStart(PublicKeyEndpoint endpoint) {
        try {
            return endpoint.fetch();
        } catch (IOException e) {
            throw new IllegalStateException("authproxy.jwt.public-key: cannot fetch the key from host "
                    + endpoint.host() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("authproxy.jwt.public-key: interrupted fetching the key from host "
                    + endpoint.host());
        }
    }

    private void refreshKey() {
        try {
            String content = keyEndpoint.fetch();
            if (!content.equals(keyContent)) {
                keyContent = content;
                parser = new DefaultJWTParser(contextInfo(config, content));
                // After the swap, so a token verified under the old key cannot stay behind (see verify).
                verified.invalidateAll();
                LOG.infof("authproxy.jwt.public-key: new key from host %s", keyEndpoint.host());
            }
        } catch (IOException | RuntimeException e) {
            // A task that throws is never run again, so every failure is caught and the old key kept.
            LOG.warnf("authproxy.jwt.public-key: refreshing the key from host %s failed (%s); keeping the key in use",
                    keyEndpoint.host(), e instanceof IOException ? e.getMessage() : e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops refreshing a key published at a URL; verification goes on with the last key. */
    @Override
    public void close() {
        if (keyRefresh != null) {
            keyRefresh.shutdownNow();
        }
    }

    /** @param fetchedKey key content fetched from the configured URL, or {@code null} to use the setting as is */
    private static JWTAuthContextInfo contextInfo(JwtSettings config, String fetchedKey) {
        JWTAuthContextInfo info = new JWTAuthContextInfo();
        SignatureAlgorithm algorithm = SignatureAlgorithm.fromAlgorithm(config.algorithm());
        info.setSignatureAlgorithm(Set.of(algorithm));
        if (algorithm == SignatureAlgorithm.HS512) {
            byte[] secret = config.secret().orElseThrow().getBytes(StandardCharsets.UTF_8);
            info.setSecretVerificationKey(new SecretKeySpec(secret, "HmacSHA512"));
            // jose4j refuses HS512 keys under 64 bytes; ConfigCheck only lets them through when allowed.
            info.setRelaxVerificationKeyValidation(config.allowShortSecret());
        } else {
            String key = fetchedKey != null ? fetchedKey : config.publicKey().orElseThrow().trim();
            if (fetchedKey != null || key.startsWith("-----BEGIN") || key.startsWith("{")) {
                info.setPublicKeyContent(key);
            } else {
                info.setPublicKeyLocation(key);
            }
        }
        int leeway = (int) config.leeway().toSeconds();
        info.setClockSkew(leeway);
        info.setExpGracePeriodSecs(leeway);
        // hyper-auth-proxy's tokens need not carry iat; a non-positive max TTL is SmallRye's way to
        // stop requiring it (exp is still required and enforced).
        info.setMaxTimeToLiveSecs(0L);
        info.setRequireNamedPrincipal(false);
        // The session claim is checked after parsing, where its absence can be told apart from other
        // failures; SmallRye's own required-claims check reports no error code.
        info.setRequiredClaims(Set.of("exp"));
        config.issuer().ifPresent(info::setIssuedBy);
        config.audience().ifPresent(aud -> info.setExpectedAudience(Set.copyOf(aud)));
        return info;
    }

    /**
     * @return the verified session
     * @throws ProxyFailure {@link Reason#INVALID_TOKEN} for any token that does not verify, with a detail
     *                      naming the check it failed (never the token or a claim's value)
     */
    public SessionToken verify(String compactJwt) {
        long now = clock.millis() / 1000;
        TokenKey key = new TokenKey(compactJwt);
        SessionToken cached = verified.getIfPresent(key);
        if (cached != null) {
            // The cache drops a token at its exp on this clock; checked here as well, so that a
            // wall clock set back cannot stretch a token's life.
            return unexpired(key, cached, now);
        }
        DefaultJWTParser used = parser;
        // jose4j checks exp on the system clock; the verifier's clock, on which cached tokens
        // expire, has the last word on both paths.
        SessionToken token = unexpired(key, parse(used, compactJwt), now);
        verified.put(key, token);
        if (parser != used) {
            // The key changed while this token was checked: do not keep what the old key vouched for.
            verified.asMap().remove(key, token);
        }
        return token;
    }

    private SessionToken unexpired(TokenKey key, SessionToken token, long now) {
        if (now <= token.expiresAt() + leewaySeconds) {
            return token;
        }
        verified.invalidate(key);
        throw rejected("token expired");
    }

    private SessionToken parse(DefaultJWTParser parser, String compactJwt) {
        JsonWebToken jwt;
        try {
            jwt = parser.parse(compactJwt);
        } catch (ParseException e) {
            throw rejected(failedCheck(e));
        }
        Object sid = jwt.getClaim(sessionClaim);
        if (sid == null) {
            throw rejected("missing claim " + sessionClaim);
        }
        String sessionId = sid instanceof JsonString js ? js.getString() : sid instanceof String s ? s : null;
        if (sessionId == null) {
            throw rejected("claim " + sessionClaim + " is not a string");
        }
        if (sessionId.isEmpty()) {
            throw rejected("missing claim " + sessionClaim);
        }
        return new SessionToken(sessionId, jwt.getSubject(), jwt.getExpirationTime());
    }

    private static ProxyFailure rejected(String detail) {
        LOG.debugf("token rejected: %s", detail);
        return new ProxyFailure(Reason.INVALID_TOKEN, detail);
    }

    /**
     * Which check a token failed, as a fixed phrase. jose4j's exception messages quote the claims JSON
     * (session id, subject) and sometimes the whole token, so only its error codes and exception types
     * are read here, and no message of it is ever logged.
     */
    private static String failedCheck(Throwable failure) {
        InvalidJwtException invalid = null;
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
            if (t instanceof InvalidAlgorithmException) {
                return "algorithm not accepted";
            }
            if (t instanceof InvalidKeyException) {
                // The configured key, not the token, is at fault (ConfigCheck normally stops this at start).
                return "verification key not usable";
            }
            if (invalid == null && t instanceof InvalidJwtException found) {
                invalid = found;
            }
        }
        if (invalid == null) {
            return MALFORMED;
        }
        // jose4j checks the signature before any claim, so claims are only named for authentic tokens.
        if (invalid.hasErrorCode(ErrorCodes.SIGNATURE_INVALID) || invalid.hasErrorCode(ErrorCodes.SIGNATURE_MISSING)) {
            return "bad signature";
        }
        if (invalid.hasErrorCode(ErrorCodes.EXPIRATION_MISSING)) {
            return "missing claim exp";
        }
        if (invalid.hasErrorCode(ErrorCodes.EXPIRED)) {
            return "token expired";
        }
        if (invalid.hasErrorCode(ErrorCodes.NOT_YET_VALID)) {
            return "token not yet valid (nbf)";
        }
        if (invalid.hasErrorCode(ErrorCodes.ISSUER_MISSING) || invalid.hasErrorCode(ErrorCodes.ISSUER_INVALID)) {
            return "issuer not accepted";
        }
        if (invalid.hasErrorCode(ErrorCodes.AUDIENCE_MISSING) || invalid.hasErrorCode(ErrorCodes.AUDIENCE_INVALID)) {
            return "audience not accepted";
        }
        return MALFORMED;
    }

    /**
     * A token as the key of the verified tokens: equal when the whole token is equal, hashed on its
     * last {@value #HASHED_CHARACTERS} characters. Every request brings its token as a new string, so
     * {@code String.hashCode} would read all of it (hundreds of characters) on every request; the
     * end of a compact JWT is its signature, as good as random, and the map holds only tokens whose
     * signature was verified, so nobody without the signing key can make many of them share a hash.
     */
    record TokenKey(String jwt) {
        static final int HASHED_CHARACTERS = 16;
        /** The key object itself: a header and one reference. */
        static final long OBJECT_BYTES = 16;

        @Override
        public int hashCode() {
            int h = 0;
            for (int i = Math.max(0, jwt.length() - HASHED_CHARACTERS); i < jwt.length(); i++) {
                h = 31 * h + jwt.charAt(i);
            }
            return h;
        }

        @Override
        public String toString() {
            // A token is a credential: never in a log line, not even through a key's toString.
            return "TokenKey[" + jwt.length() + " characters]";
        }
    }

    /** The estimated bytes of a remembered token: its key, its string and the claims kept of it. */
    private static long bytes(TokenKey key, SessionToken token) {
        return TokenKey.OBJECT_BYTES + BoundedCache.bytes(key.jwt()) + BoundedCache.bytes(token.sessionId())
                + BoundedCache.bytes(token.subject());
    }

    /** Number of remembered tokens (an estimate: expired ones may not be dropped yet). */
    public long cached() {
        return verified.estimatedSize();
    }
}
