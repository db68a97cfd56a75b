package org.jmapauthproxy.upstream;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;

/**
 * Changes the headers of a proxied response just before they are written to the client, whatever
 * writes them: the streamed relay or a {@link ResponseRewriter}. Called on the event loop; must not block.
 */
public interface ResponseHeaderRewriter {

    /** Adjusts {@code clientHeaders}, the response headers about to go to the client of {@code request}. */
    void rewrite(HttpServerRequest request, MultiMap clientHeaders);
}
