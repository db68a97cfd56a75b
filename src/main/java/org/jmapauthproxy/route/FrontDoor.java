package org.jmapauthproxy.route;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.impl.ConnectionBase;
import org.jmapauthproxy.exchange.HttpMessages;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What every client connection on the proxy port passes before its requests reach the route: a
 * cap on open connections, deadlines for slow or idle clients, and the HTTP/1.x framing rules of
 * {@link HeadCheck}. A refusal is answered here with a problem document and the connection is
 * closed, so nothing that follows a bad head on the same connection can be read as a request.
 *
 * <p>It works on the Netty pipeline of each connection, because Vert.x 4.5 decodes and dispatches a
 * request head (and parses the bytes after it as the next request) before any handler of ours runs,
 * unfolds obs-fold lines silently, and keeps its own timeouts per connection only ({@code idle}).
 * That needs Vert.x's {@code ConnectionBase} (an internal type) to reach the channel: Vert.x 4.5
 * (4.5.27 here) has no public hook before a head is dispatched, and Vert.x 5 keeps Netty access in
 * its internal API (its 4.4.5 deprecation notes, pull request 4793), so no released version removes
 * this; a request-head hook in Vert.x's public API would.
 */
public final class FrontDoor {

    /** Called once per refused request, for the access line and the metrics. */
    public interface Refusals {
        void refused(String method, String path, Reason reason, String requestId);
    }

    /**
     * @param keepAlive      how long a connection may wait for the first byte of its next request
     *                       (a new connection, or after a response on a kept-alive one)
     * @param requestHeader  how long a request head may take from its first byte to its end
     * @param bodyIdle       how long a request body may pause (while the proxy is reading it)
     * @param maxConnections client connections open at once; more are answered 503 and closed
     */
    public record Limits(Duration keepAlive, Duration requestHeader, Duration bodyIdle, int maxConnections) {
    }

    static final String DECODER = "httpDecoder";
    static final String WATCH = "jmap-auth-proxy-response-watch";

    private final Limits limits;
    private final Refusals refusals;
    private final HttpServerOptions options;
    private final AtomicInteger open = new AtomicInteger();

    public FrontDoor(Limits limits, Refusals refusals, HttpServerOptions options) {
        this.limits = limits;
        this.refusals = refusals;
        this.options = options;
    }

    /** Client connections open now. */
    public int openConnections() {
        return open.get();
    }

    /**
     * Takes over a new connection (the server's connection handler): counts it, and on HTTP/1.x
     * puts the proxy's decoder in place of Vert.x's before any byte has been read.
     */
    public void install(HttpConnection connection) {
        if (!(connection instanceof ConnectionBase base)) {
            return;
        }
        Channel channel = base.channel();
        int now = open.incrementAndGet();
        channel.closeFuture().addListener(f -> open.decrementAndGet());
        ChannelPipeline pipeline = channel.pipeline();
        if (now > limits.maxConnections()) {
            refusals.refused("-", "-", Reason.TOO_MANY_CONNECTIONS, HttpMessages.requestId(null));
            // Written below the HTTP encoder (from the pipeline's first handler), as raw bytes.
            pipeline.firstContext().writeAndFlush(Unpooled.wrappedBuffer(problem(Reason.TOO_MANY_CONNECTIONS,
                            "the proxy has " + limits.maxConnections() + " client connections open",
                            HttpMessages.requestId(null))))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        if (pipeline.get(DECODER) == null) {
            // Not HTTP/1.x (the proxy port does not speak cleartext HTTP/2, see ProxyConfig.Http):
            // nothing to check here.
            return;
        }
        RequestHeadDecoder decoder = new RequestHeadDecoder(options, limits, refusals);
        pipeline.replace(DECODER, DECODER, decoder);
        pipeline.addAfter("httpEncoder", WATCH, new ResponseWatch(decoder));
    }

    /**
     * A whole HTTP/1.1 response carrying a problem document, closing the connection; written as
     * bytes below the HTTP encoder, which may be busy with nothing or with a response of Vert.x's.
     */
    static byte[] problem(Reason reason, String detail, String requestId) {
        byte[] body = ProblemResponse.document(reason, detail, requestId, null, null).getBytes();
        StringBuilder head = new StringBuilder(256)
                .append("HTTP/1.1 ").append(reason.status()).append(' ')
                .append(HttpResponseStatus.valueOf(reason.status()).reasonPhrase()).append("\r\n")
                .append("Content-Type: application/problem+json\r\n")
                .append("Cache-Control: no-store\r\n")
                .append("X-Request-Id: ").append(requestId).append("\r\n");
        if (reason == Reason.METHOD_NOT_ALLOWED) {
            head.append("Allow: ").append(HeadCheck.ALLOWED_METHODS).append("\r\n");
        } else if (reason.status() == 503) {
            head.append("Retry-After: 5\r\n");
        }
        head.append("Connection: close\r\nContent-Length: ").append(body.length).append("\r\n\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(body, 0, all, headBytes.length, body.length);
        return all;
    }

    /**
     * Tells the decoder when a response has been written whole, which is when a kept-alive
     * connection starts waiting for its next request. Sits above the HTTP encoder, so it sees
     * Vert.x's response objects; interim (1xx) responses do not count.
     */
    static final class ResponseWatch extends ChannelDuplexHandler {
        private final RequestHeadDecoder decoder;
        private boolean interim;

        ResponseWatch(RequestHeadDecoder decoder) {
            this.decoder = decoder;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof HttpResponse response) {
                interim = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
                if (!interim) {
                    decoder.responseStarted();
                }
            }
            boolean ends = msg instanceof LastHttpContent && !interim;
            if (msg instanceof FullHttpResponse && interim) {
                interim = false;
            }
            if (ends) {
                ChannelPromise written = promise.unvoid();
                written.addListener(f -> decoder.responseEnded());
                ctx.write(msg, written);
                return;
            }
            ctx.write(msg, promise);
        }
    }

    static ByteBuf refusal(Reason reason, String detail, String requestId) {
        return Unpooled.wrappedBuffer(problem(reason, detail, requestId));
    }
}
