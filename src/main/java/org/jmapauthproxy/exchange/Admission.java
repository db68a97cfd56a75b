package org.jmapauthproxy.exchange;

import io.vertx.core.http.HttpServerRequest;

/**
 * A per-user check an authenticated request passes before it is forwarded (the JMAP limits the
 * origin advertises). Called on the event loop, must not block.
 */
public interface Admission {

    /** Admits everything. */
    Admission NONE = (request, user, state) -> () -> { };

    /**
     * Admits the request of {@code user} or throws the {@link ProxyFailure} that refuses it; may set a
     * body limit on {@code state}.
     *
     * @param user who the request is counted against: the token's subject, else its session id
     * @return what to run once the exchange has ended (releases what was taken)
     */
    Runnable admit(HttpServerRequest request, String user, RequestState state);
}
