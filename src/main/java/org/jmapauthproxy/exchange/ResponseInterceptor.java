package org.jmapauthproxy.exchange;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;

/**
 * One link of the chain every proxied exchange passes through, in the spirit of vertx-http-proxy's
 * interceptors: it sees the request going out to the origin and the response coming back, and may
 * take over the few responses the proxy must change rather than stream (the JMAP session document).
 * The forwarder runs the links in order; each method does nothing by default. All are called on the
 * exchange's event loop and must not block.
 */
public interface ResponseInterceptor {

    /** Adjusts the headers of the request about to go to the origin. */
    default void outgoing(HttpServerRequest clientRequest, MultiMap originHeaders) {
    }

    /**
     * Adjusts the response headers about to go to the client of {@code clientRequest}, whatever writes
     * the head (the streamed relay or a link that took the body over).
     */
    default void incoming(HttpServerRequest clientRequest, MultiMap clientHeaders) {
    }

    /**
     * Whether this link writes the client's response body itself instead of the relay; the first link
     * that says so gets {@link #takeOver}. The response's status and the headers that may cross are
     * already set when it is asked.
     */
    default boolean takesOver(Exchange ctx, HttpClientResponse originResponse) {
        return false;
    }

    /** Writes the client's response from the origin's, before any of the origin's body has been read. */
    default void takeOver(Exchange ctx, HttpClientResponse originResponse) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " takes no response over");
    }
}
