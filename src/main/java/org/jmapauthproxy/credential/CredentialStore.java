package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * Where sessions are stored: the raw JSON value written by the login back-end, by session id.
 * Implementations complete the future on the caller's Vert.x context and never block.
 */
public interface CredentialStore {

    /** @return the stored value, or a future of {@code null} when the session does not exist */
    Future<Buffer> find(String sessionId);

    /** Cheap liveness check of the store, for readiness. */
    Future<Void> ping();
}
