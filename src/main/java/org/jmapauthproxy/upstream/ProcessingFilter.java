package org.jmapauthproxy.upstream;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.net.impl.ConnectionBase;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Watches the responses on an origin connection, right after the HTTP decoder. Drops
 * {@code 102 Processing} interim responses (RFC 2518 §10.1) before Vert.x sees them.
 *
 * <p>Cyrus sends {@code 102} as a heartbeat on requests that run longer than its
 * {@code httpkeepalive} period. The Vert.x 4.5 client knows only {@code 100} and {@code 103} as
 * interim and takes a {@code 102} as the final response, after which the real response arrives with
 * no request waiting for it and the connection is torn down. Interim responses carry no content a
 * client needs, so the proxy removes them on the origin connection's pipeline, right after the HTTP
 * decoder: the {@code 102} head and the empty last-content Netty emits for it.
 *
 * <p>It also tells an exchange when its response has arrived whole ({@link #watchArrival}). Vert.x
 * returns the connection to the pool at that moment, while a paused reader may not have consumed
 * the response's end yet; resetting the exchange after it would close the connection, which may by
 * then carry another client's request (Vert.x 4.5 closes a connection whose stream is reset once
 * the stream's response has ended, {@code Http1xClientConnection.reset}). At that moment it also
 * hands over the head as Netty decoded it, whose header names Vert.x's view would turn into strings.
 *
 * <p>Reaching the pipeline takes Vert.x's internal {@code ConnectionBase}: Vert.x 4.5 (4.5.27 here)
 * offers no public hook on a client connection's channel. A Vert.x client that takes {@code 102} as
 * interim, as it does {@code 100} and {@code 103}, would remove this filter and the internal type
 * with it; no released version known to us does.
 */
final class ProcessingFilter extends ChannelInboundHandlerAdapter {

    static final String NAME = "jmap-auth-proxy-102-filter";

    private boolean droppingInterim;
    /** The response under way is an interim one (1xx but 102): its end ends no exchange. */
    private boolean interim;
    /** Set once the response under way has arrived whole. */
    private AtomicBoolean arrival;
    /** The headers of the final response head being handed to Vert.x, during that call only. */
    private HttpHeaders delivering;

    /** Installs the filter on a new origin connection (HTTP/1.x only; HTTP/2 has no such quirk here). */
    static void install(HttpConnection connection) {
        if (connection instanceof ConnectionBase base) {
            var pipeline = base.channel().pipeline();
            if (pipeline.get("codec") != null && pipeline.get(NAME) == null) {
                pipeline.addAfter("codec", NAME, new ProcessingFilter());
            }
        }
    }

    /**
     * Sets {@code whole} once the response whose head has just arrived on this connection has arrived
     * whole. Called on the connection's event loop while Vert.x hands that head over (the ordinary
     * pool's connections live on the loop of the exchanges they serve); elsewhere, or on a connection
     * without the filter, nothing is watched.
     *
     * @return that head's headers as Netty decoded them (what Vert.x's view of them wraps), or
     *         {@code null} when the head is not being handed over right now
     */
    static HttpHeaders watchArrival(HttpConnection connection, AtomicBoolean whole) {
        if (connection instanceof ConnectionBase base && base.channel().eventLoop().inEventLoop()
                && base.channel().pipeline().get(NAME) instanceof ProcessingFilter filter) {
            filter.arrival = whole;
            return filter.delivering;
        }
        return null;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpResponse response) {
            int status = response.status().code();
            if (status == 102) {
                droppingInterim = !(msg instanceof LastHttpContent);
                ReferenceCountUtil.release(msg);
                return;
            }
            interim = status < 200;
            arrival = null;
        }
        if (droppingInterim && msg instanceof LastHttpContent) {
            droppingInterim = false;
            ReferenceCountUtil.release(msg);
            return;
        }
        boolean last = msg instanceof LastHttpContent;
        // The exchange learns of its head inside this call (and asks to be told of the end then).
        delivering = msg instanceof HttpResponse response && !interim ? response.headers() : null;
        try {
            ctx.fireChannelRead(msg);
        } finally {
            delivering = null;
        }
        if (last) {
            if (interim) {
                interim = false;
            } else if (arrival != null) {
                arrival.set(true);
                arrival = null;
            }
        }
    }
}
