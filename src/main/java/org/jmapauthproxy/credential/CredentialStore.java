package org.jmapauthproxy.credential;

import io.vertx.core.Future;

/**
 * Where sessions are stored, by key: the value the login back-end wrote, parsed
 * ({@link StoredSession}). Implementations never block; a future may already be complete.
 */
public interface CredentialStore {

    /** @return the stored value, or a future of {@code null} when the session does not exist */
    Future<StoredSession> find(String key);

    /** Cheap liveness check of the store, for readiness. */
    Future<Void> ping();
}
