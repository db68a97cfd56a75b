package org.jmapauthproxy.upstream;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * A hook on the origin's response for the few responses the proxy must change rather than stream
 * (the JMAP session document). Everything else is streamed untouched.
 */
public interface ResponseRewriter {

    /**
     * Adjusts the headers of the request about to be sent to the origin, so that the origin's answer
     * is one this rewriter can handle. Does nothing by default.
     */
    default void prepare(HttpServerRequest clientRequest, MultiMap originHeaders) {
    }

    /** Whether this rewriter takes over the response; called on the event loop, must not block. */
    boolean handles(RoutingContext ctx, HttpClientResponse originResponse);

    /**
     * Writes the client's response from the origin's. Called right after {@link #handles} returned
     * true, before any of the origin's body has been read.
     */
    void rewrite(RoutingContext ctx, HttpClientResponse originResponse);
}
