package org.jmapauthproxy.credential;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;
import org.jmapauthproxy.token.SessionToken;
import org.jboss.logging.Logger;
import org.jmapauthproxy.exchange.FoldedWarnings;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * Turns a verified session into what the origin accepts: looks the session up in the
 * {@link CredentialStore}, opens the sealed credentials, and builds the origin's
 * {@code Authorization} value (Basic, or a bearer minted for Cyrus when a minter is configured).
 *
 * <p>The opened password lives only as long as one request needs it: what may be remembered
 * between requests is the sealed value ({@link CachedCredentialStore}), and only while the store's
 * invalidation feed guarantees that a deleted session is refused at once.
 */
public final class CredentialService {

    private static final Logger LOG = Logger.getLogger(CredentialService.class);
    /** A store outage fails every request the same way: one line, then a count per interval. */
    private static final FoldedWarnings WARNINGS = FoldedWarnings.every(Duration.ofSeconds(10), LOG);

    /** How the {@code credentials} field of a stored session is encoded. */
    public enum Encryption { AES_GCM, NONE }

    private final Vertx vertx;
    private final CredentialStore store;
    private final String keyPrefix;
    private final Encryption encryption;
    private final SealedCredential sealed;
    private final CyrusTokenMinter minter;
    private final long timeoutMillis;

    /**
     * @param sealed required for {@link Encryption#AES_GCM}, ignored otherwise
     * @param minter when non-null, the origin gets a minted bearer and only the user name is used
     */
    public CredentialService(Vertx vertx, CredentialStore store, String keyPrefix, Encryption encryption,
                             SealedCredential sealed, CyrusTokenMinter minter, Duration timeout) {
        this.vertx = vertx;
        this.store = store;
        this.keyPrefix = keyPrefix;
        this.encryption = encryption;
        this.sealed = sealed;
        this.minter = minter;
        this.timeoutMillis = timeout.toMillis();
    }

    /**
     * Completes with the origin credential, or fails with a {@link ProxyFailure}:
     * {@code UNKNOWN_SESSION}, {@code BAD_CREDENTIALS} or {@code STORE_UNAVAILABLE}.
     */
    public Future<Authorised> credentialFor(SessionToken token) {
        String key = keyPrefix + token.sessionId();
        Future<StoredSession> lookup = store.find(key);
        if (lookup.isComplete()) {
            // Answered from memory: no deadline to arm, no context to return to.
            if (lookup.failed()) {
                return Future.failedFuture(storeFailure(lookup.cause()));
            }
            try {
                return Future.succeededFuture(authorised(key, lookup.result(), token.sessionId()));
            } catch (ProxyFailure failure) {
                return Future.failedFuture(failure);
            }
        }
        Context context = vertx.getOrCreateContext();
        Promise<Authorised> result = Promise.promise();
        // The store client has no per-call deadline; a timer on our own context gives one.
        long timer = vertx.setTimer(timeoutMillis, id -> result.tryFail(
                new ProxyFailure(Reason.STORE_UNAVAILABLE, "session store timed out")));
        lookup.onComplete(ar -> context.runOnContext(v -> {
            vertx.cancelTimer(timer);
            if (ar.failed()) {
                result.tryFail(storeFailure(ar.cause()));
                return;
            }
            try {
                result.tryComplete(authorised(key, ar.result(), token.sessionId()));
            } catch (ProxyFailure failure) {
                result.tryFail(failure);
            }
        }));
        return result.future();
    }

    private static ProxyFailure storeFailure(Throwable cause) {
        WARNINGS.warn("session store error: " + cause.getMessage());
        return new ProxyFailure(Reason.STORE_UNAVAILABLE, "session store error");
    }

    /**
     * A request's session, authorised: the origin credential, and where and as what the session was
     * stored, so that a long-lived channel can be ended when that changes.
     *
     * @param sessionKey  the store key of the session
     * @param stored      the stored value as it was read (sealed; see {@link StoredSession#fingerprint()})
     */
    public record Authorised(OriginCredential credential, String sessionKey, StoredSession stored) {

        /** The stored value's fingerprint, built only when a long-lived channel needs it. */
        public String fingerprint() {
            return stored.fingerprint();
        }
    }

    private Authorised authorised(String key, StoredSession session, String sessionId) {
        OriginCredential credential = decode(session, sessionId);
        return new Authorised(credential, key, session);
    }

    /**
     * Turns one stored session into the origin credential for {@code sessionId} (also used by the
     * {@code session check} command); fails with {@code UNKNOWN_SESSION} or {@code BAD_CREDENTIALS},
     * whose details name what is wrong and never a credential.
     */
    public OriginCredential decode(StoredSession session, String sessionId) {
        if (session == null) {
            throw new ProxyFailure(Reason.UNKNOWN_SESSION, "unknown session");
        }
        if (session.malformed()) {
            throw new ProxyFailure(Reason.BAD_CREDENTIALS,
                    "stored session is not a JSON object of at most " + StoredSession.MAX_BYTES + " bytes");
        }
        if (minter != null && session.credentials() == null) {
            String name = session.user();
            if (name != null && !name.isEmpty() && validUsername(name)) {
                return minter.credentialFor(name);
            }
            throw new ProxyFailure(Reason.BAD_CREDENTIALS, "stored session names no user");
        }
        if (session.credentials() == null) {
            throw new ProxyFailure(Reason.BAD_CREDENTIALS, "stored session has no credentials");
        }
        byte[] plaintext = open(session.credentials(), sessionId)
                .orElseThrow(() -> new ProxyFailure(Reason.BAD_CREDENTIALS, "credentials do not open"));
        try {
            return minter != null
                    ? minter.credentialFor(BasicCredentials.username(plaintext))
                    : BasicCredentials.fromPlaintext(plaintext);
        } catch (BasicCredentials.Unusable e) {
            throw new ProxyFailure(Reason.BAD_CREDENTIALS, e.getMessage());
        }
    }

    private Optional<byte[]> open(String credentials, String sessionId) {
        if (encryption == Encryption.AES_GCM) {
            return sealed.open(credentials, sessionId);
        }
        try {
            return Optional.of(Base64.getDecoder().decode(credentials));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static boolean validUsername(String name) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7f || c == ':') {
                return false;
            }
        }
        return name.getBytes(StandardCharsets.UTF_8).length <= 256;
    }
}
