package org.jmapauthproxy.token;

import io.smallrye.jwt.algorithm.SignatureAlgorithm;
import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.ParseException;
import jakarta.json.JsonString;
import org.eclipse.microprofile.jwt.JsonWebToken;
import org.jmapauthproxy.config.ProxyConfig;
import org.jmapauthproxy.route.ProxyFailure;
import org.jmapauthproxy.route.ProxyFailure.Reason;
import org.jboss.logging.Logger;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Verifies session tokens with SmallRye JWT (jose4j underneath) and turns them into a
 * {@link SessionToken}.
 *
 * <p>Only the configured algorithm is accepted, which rules out {@code alg: none} and HMAC/RSA
 * confusion; jose4j rejects {@code crit} headers it does not understand. {@code exp} and the session
 * claim are required, {@code nbf} is enforced when present, {@code iss}/{@code aud} when configured.
 *
 * <p>A verified token is remembered by its exact string (bounded), because a webmail client sends the
 * same token on every request and an HMAC/RSA check per request is wasted work; expiry is checked
 * again on every use, so a cached token never outlives its {@code exp}.
 */
public final class TokenVerifier {

    private static final Logger LOG = Logger.getLogger(TokenVerifier.class);

    private final DefaultJWTParser parser;
    private final String sessionClaim;
    private final long leewaySeconds;
    private final int cacheSize;
    private final Clock clock;
    private final ConcurrentHashMap<String, SessionToken> verified = new ConcurrentHashMap<>();

    public TokenVerifier(ProxyConfig.Jwt config, Clock clock) {
        this.sessionClaim = config.sessionClaim();
        this.leewaySeconds = config.leeway().toSeconds();
        this.cacheSize = config.cacheSize();
        this.clock = clock;
        this.parser = new DefaultJWTParser(contextInfo(config));
    }

    private static JWTAuthContextInfo contextInfo(ProxyConfig.Jwt config) {
        JWTAuthContextInfo info = new JWTAuthContextInfo();
        SignatureAlgorithm algorithm = SignatureAlgorithm.fromAlgorithm(config.algorithm());
        info.setSignatureAlgorithm(Set.of(algorithm));
        if (algorithm == SignatureAlgorithm.HS512) {
            byte[] secret = config.secret().orElseThrow().getBytes(StandardCharsets.UTF_8);
            info.setSecretVerificationKey(new SecretKeySpec(secret, "HmacSHA512"));
            // jose4j refuses HS512 keys under 64 bytes; ConfigCheck only lets them through when allowed.
            info.setRelaxVerificationKeyValidation(config.allowShortSecret());
        } else {
            String key = config.publicKey().orElseThrow().trim();
            if (key.startsWith("-----BEGIN") || key.startsWith("{")) {
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
        Set<String> required = new HashSet<>(List.of(config.sessionClaim(), "exp"));
        info.setRequiredClaims(required);
        config.issuer().ifPresent(info::setIssuedBy);
        config.audience().ifPresent(aud -> info.setExpectedAudience(Set.copyOf(aud)));
        return info;
    }

    /**
     * @return the verified session
     * @throws ProxyFailure {@link Reason#INVALID_TOKEN} for any token that does not verify
     */
    public SessionToken verify(String compactJwt) {
        long now = clock.millis() / 1000;
        SessionToken cached = verified.get(compactJwt);
        if (cached != null) {
            if (now <= cached.expiresAt() + leewaySeconds) {
                return cached;
            }
            verified.remove(compactJwt);
            throw new ProxyFailure(Reason.INVALID_TOKEN, "token expired");
        }
        SessionToken token = parse(compactJwt);
        remember(compactJwt, token, now);
        return token;
    }

    private SessionToken parse(String compactJwt) {
        JsonWebToken jwt;
        try {
            jwt = parser.parse(compactJwt);
        } catch (ParseException e) {
            // The cause says which check failed (signature, exp, nbf, iss...); it never contains the token.
            Throwable root = e.getCause() == null ? e : e.getCause();
            LOG.debugf("token rejected: %s", root.getMessage());
            throw new ProxyFailure(Reason.INVALID_TOKEN, "token rejected");
        }
        Object sid = jwt.getClaim(sessionClaim);
        String sessionId = sid instanceof JsonString js ? js.getString() : sid instanceof String s ? s : null;
        if (sessionId == null || sessionId.isEmpty()) {
            throw new ProxyFailure(Reason.INVALID_TOKEN, "session claim missing or not a string");
        }
        return new SessionToken(sessionId, jwt.getSubject(), jwt.getExpirationTime());
    }

    private void remember(String compactJwt, SessionToken token, long now) {
        if (cacheSize <= 0) {
            return;
        }
        if (verified.size() >= cacheSize) {
            verified.values().removeIf(t -> now > t.expiresAt() + leewaySeconds);
            if (verified.size() >= cacheSize) {
                // Still full of live tokens: start over rather than track recency on the hot path.
                verified.clear();
            }
        }
        verified.put(compactJwt, token);
    }

    /** Number of remembered tokens (for metrics). */
    public int cached() {
        return verified.size();
    }
}
