package org.jmapauthproxy.jmap;

import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.jmapauthproxy.upstream.HeaderPolicy;
import org.jmapauthproxy.upstream.ResponseRewriter;

/**
 * {@code /.well-known/jmap} (RFC 8620 §2.2): Cyrus redirects to a {@code Location} built from its own
 * scheme and host, which would send the client straight to the origin. The redirect is kept but its
 * target is rebased onto the proxy's public URL.
 */
public final class WellKnownRewriter implements ResponseRewriter {

    private final PublicBase publicBase;

    public WellKnownRewriter(PublicBase publicBase) {
        this.publicBase = publicBase;
    }

    @Override
    public boolean handles(RoutingContext ctx, HttpClientResponse origin) {
        int status = origin.statusCode();
        return status >= 300 && status < 400 && origin.getHeader(HttpHeaders.LOCATION) != null
                && ctx.request().path().startsWith("/.well-known/jmap");
    }

    @Override
    public void rewrite(RoutingContext ctx, HttpClientResponse origin) {
        HttpServerResponse response = ctx.response();
        response.setStatusCode(origin.statusCode());
        HeaderPolicy.toClient(origin.headers(), response.headers());
        response.putHeader(HttpHeaders.LOCATION,
                publicBase.of(ctx.request()) + SessionRewriter.pathOf(origin.getHeader(HttpHeaders.LOCATION)));
        if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
            response.setChunked(true);
        }
        origin.pipeTo(response);
    }
}
