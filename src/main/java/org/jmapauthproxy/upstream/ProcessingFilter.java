package org.jmapauthproxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

/**
 * Drops {@code 102 Processing} interim responses (RFC 2518 §10.1) before Vert.x sees them.
 *
 * <p>Cyrus sends {@code 102} as a heartbeat on requests that run longer than its
 * {@code httpkeepalive} period. The Vert.x 4.5 client knows only {@code 100} and {@code 103} as
 * interim and takes a {@code 102} as the final response, after which the real response arrives with
 * no request waiting for it and the connection is torn down. Interim responses carry no content a
 * client needs, so the proxy removes them on the origin connection's pipeline, right after the HTTP
 * decoder: the {@code 102} head and the empty last-content Netty emits for it.
 *
 * <p>Reaching the pipeline takes Vert.x's internal {@code ConnectionBase}: Vert.x 4.5 (4.5.27 here)
 * offers no public hook on a client connection's channel. A Vert.x client that takes {@code 102} as
 * interim, as it does {@code 100} and {@code 103}, would remove this filter and the internal type
 * with it; no released version known to us does.
 */
final class ProcessingFilter extends ChannelInboundHandlerAdapter {

    static final String NAME = "jmap-auth-proxy-102-filter";

    private boolean droppingInterim;

    /** Installs the filter on a new origin connection (HTTP/1.x only; HTTP/2 has no such quirk here). */
    static void install(HttpConnection connection) {
        if (connection instanceof ConnectionBase base) {
            var pipeline = base.channel().pipeline();
            if (pipeline.get("codec") != null && pipeline.get(NAME) == null) {
                pipeline.addAfter("codec", NAME, new ProcessingFilter());
            }
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpResponse response && response.status().code() == 102) {
            droppingInterim = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return;
        }
        if (droppingInterim && msg instanceof LastHttpContent) {
            droppingInterim = false;
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }
}
