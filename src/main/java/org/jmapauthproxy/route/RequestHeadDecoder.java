package org.jmapauthproxy.route;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import org.jmapauthproxy.exchange.HttpMessages;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;

import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Vert.x's HTTP/1.x request decoder with the proxy's rules around it, one per connection, on its
 * event loop (no field needs more than that thread):
 * <ul>
 *   <li>a head whose lines are folded (obs-fold, RFC 9112 §5.2) is refused: the decoder would join
 *   them, and another hop might not;</li>
 *   <li>every decoded head goes through {@link HeadCheck}; a refused one, and everything after it on
 *   the connection, never reaches Vert.x;</li>
 *   <li>deadlines: the first byte of a request after {@code keepAlive}, the whole head within
 *   {@code requestHeader} of its first byte, and no pause longer than {@code bodyIdle} in a body
 *   the proxy is reading.</li>
 * </ul>
 * A refusal is answered with a problem document when no response is under way on the connection;
 * otherwise the connection is closed once that response has been written.
 *
 * <p>It extends Vert.x's internal {@code VertxHttpRequestDecoder} (so that Vert.x still gets the
 * message types it expects) because Vert.x 4.5 takes no decoder of the application's and has no
 * request-head hook before dispatch; see {@link FrontDoor} for what would remove it.
 */
final class RequestHeadDecoder extends VertxHttpRequestDecoder {

    private final long keepAliveNanos;
    private final long headerNanos;
    private final long bodyIdleNanos;
    private final FrontDoor.Refusals refusals;

    private ChannelHandlerContext ctx;
    /** Between a head's end and its message's end: body bytes are being decoded. */
    private boolean inBody;
    /** Some byte of the next head has arrived. */
    private boolean headStarted;
    /** A non-empty line of the current head has been consumed by the decoder. */
    private boolean headLineConsumed;
    /** Requests passed on whose response has not been written whole yet. */
    private int openResponses;
    private boolean chunkedWithLength;
    private boolean refused;
    private boolean closeAfterResponse;
    /** A response head has been written and its end not yet. */
    private boolean responseUnderWay;

    /*
     * One deadline at a time (keep-alive, head or body), kept lazily: moving it later is a field
     * write, and the one scheduled task, when it fires early, re-arms itself for what is left. A
     * request therefore costs no timer allocation while it keeps to its deadlines.
     */
    private static final int NONE = 0;
    private static final int KEEP_ALIVE = 1;
    private static final int HEAD = 2;
    private static final int BODY = 3;
    private int phase = NONE;
    private long deadline;
    private ScheduledFuture<?> timer;
    private long timerAt;

    RequestHeadDecoder(HttpServerOptions options, FrontDoor.Limits limits, FrontDoor.Refusals refusals) {
        super(options);
        this.keepAliveNanos = limits.keepAlive().toNanos();
        this.headerNanos = limits.requestHeader().toNanos();
        this.bodyIdleNanos = limits.bodyIdle().toNanos();
        this.refusals = refusals;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        super.handlerAdded(ctx);
        waitForRequest();
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
        // Removed by a WebSocket handshake: from then on frames flow, and Vert.x's idle timeout applies.
        stopTimer();
        super.handlerRemoved0(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        stopTimer();
        super.channelInactive(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        if (refused) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (!inBody) {
            if (!headStarted && in.isReadable()) {
                headStarted = true;
                arm(HEAD, System.nanoTime() + headerNanos);
            }
            if (folded(in)) {
                refuse(new HeadCheck.Refusal(Reason.BAD_REQUEST, "folded header line (obs-fold)"), null);
                in.skipBytes(in.readableBytes());
                return;
            }
        } else if (in.isReadable()) {
            arm(BODY, System.nanoTime() + bodyIdleNanos);
        }
        int start = in.readerIndex();
        int first = out.size();
        super.decode(ctx, in, out);
        boolean headDecoded = false;
        for (int i = first; i < out.size(); i++) {
            Object message = out.get(i);
            if (message instanceof HttpRequest request) {
                headDecoded = true;
                HeadCheck.Refusal refusal = request.decoderResult().isFailure()
                        ? decodingFailure(request.decoderResult().cause())
                        : HeadCheck.check(request, chunkedWithLength);
                if (refusal != null) {
                    refuse(refusal, request);
                    release(out, i);
                    in.skipBytes(in.readableBytes());
                    return;
                }
                openResponses++;
                headStarted = false;
                headLineConsumed = false;
                chunkedWithLength = false;
                inBody = true;
            }
            if (message instanceof LastHttpContent last) {
                if (last.decoderResult().isFailure()) {
                    // A broken chunk: the body cannot be delimited, so neither can the next request.
                    refuse(new HeadCheck.Refusal(Reason.BAD_REQUEST, "malformed chunked body"), null);
                    release(out, i);
                    in.skipBytes(in.readableBytes());
                    return;
                }
                inBody = false;
            }
        }
        if (inBody) {
            if (headDecoded) {
                arm(BODY, System.nanoTime() + bodyIdleNanos);
            }
        } else if (headDecoded || !headStarted) {
            disarm();
            waitForRequest();
        } else {
            headLineConsumed |= hasText(in, start, in.readerIndex());
        }
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        chunkedWithLength = true;
        super.handleTransferEncodingChunkedWithContentLength(message);
    }

    /** A (final) response head is being written. */
    void responseStarted() {
        responseUnderWay = true;
    }

    /** The response to the oldest open request has been written whole. */
    void responseEnded() {
        responseUnderWay = false;
        openResponses = Math.max(0, openResponses - 1);
        if (closeAfterResponse && openResponses == 0) {
            ctx.close();
            return;
        }
        waitForRequest();
    }

    /** Idle between requests: the next one must start within the keep-alive time. */
    private void waitForRequest() {
        if (!refused && !inBody && !headStarted && openResponses == 0) {
            arm(KEEP_ALIVE, System.nanoTime() + keepAliveNanos);
        }
    }

    private void arm(int phase, long at) {
        this.phase = phase;
        this.deadline = at;
        if (timer == null || timerAt > at) {
            stopTimer();
            timerAt = at;
            timer = ctx.executor().schedule(this::deadlineReached, Math.max(1, at - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
        }
    }

    private void disarm() {
        phase = NONE;
    }

    private void stopTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void deadlineReached() {
        timer = null;
        if (phase == NONE || refused) {
            return;
        }
        long now = System.nanoTime();
        if (phase == BODY && !ctx.channel().config().isAutoRead()) {
            // The proxy itself stopped reading (the origin takes the body slower than the client
            // sends it): that pause is not the client's.
            deadline = now + bodyIdleNanos;
        }
        if (phase == HEAD && openResponses > 0) {
            // A pipelined head waits behind a response still being written: its time starts later.
            deadline = now + headerNanos;
        }
        if (now < deadline) {
            arm(phase, deadline);
            return;
        }
        switch (phase) {
            case KEEP_ALIVE -> {
                // Nothing was asked: closing needs no answer (RFC 9112 §9.6 lets either side close).
                refused = true;
                ctx.close();
            }
            case HEAD -> refuse(new HeadCheck.Refusal(Reason.REQUEST_TIMEOUT, "request head not complete within "
                    + TimeUnit.NANOSECONDS.toMillis(headerNanos) + " ms"), null);
            default -> {
                refused = true;
                String requestId = HttpMessages.requestId(null);
                refusals.refused("-", "-", Reason.REQUEST_TIMEOUT, requestId);
                // The route is forwarding this request: closing resets its origin exchange (never a
                // truncated body passed on as whole). The client is told why unless the origin's
                // answer has already begun; bytes of ours would then corrupt it.
                if (responseUnderWay) {
                    ctx.close();
                } else {
                    ctx.writeAndFlush(FrontDoor.refusal(Reason.REQUEST_TIMEOUT, "request body paused for more than "
                            + TimeUnit.NANOSECONDS.toMillis(bodyIdleNanos) + " ms", requestId))
                            .addListener(ChannelFutureListener.CLOSE);
                }
            }
        }
    }

    private void refuse(HeadCheck.Refusal refusal, HttpRequest request) {
        refused = true;
        stopTimer();
        String requestId = HttpMessages.requestId(request == null ? null : request.headers().get("X-Request-Id"));
        boolean named = request != null && !request.decoderResult().isFailure();
        refusals.refused(named ? request.method().name() : "-", named ? pathOf(request.uri()) : "-",
                refusal.reason(), requestId);
        if (openResponses > 0) {
            // A response of Vert.x's is under way on this connection; bytes of ours would be mixed
            // into it. The connection ends after that response instead.
            closeAfterResponse = true;
            return;
        }
        ctx.writeAndFlush(FrontDoor.refusal(refusal.reason(), refusal.detail(), requestId))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private static HeadCheck.Refusal decodingFailure(Throwable cause) {
        if (cause instanceof TooLongHttpLineException) {
            return new HeadCheck.Refusal(Reason.URI_TOO_LONG, "request line too long");
        }
        if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
            return new HeadCheck.Refusal(Reason.HEADERS_TOO_LARGE, "request head too large");
        }
        return new HeadCheck.Refusal(Reason.BAD_REQUEST, "malformed request head");
    }

    private static void release(List<Object> out, int from) {
        while (out.size() > from) {
            ReferenceCountUtil.release(out.remove(out.size() - 1));
        }
    }

    /**
     * Whether the unread bytes of a head hold a line that starts with a space or a tab right after
     * a non-empty line (obs-fold). Leading white space before the request line is no fold: the
     * decoder skips it. Stops at the empty line that ends the head.
     */
    private boolean folded(ByteBuf in) {
        boolean previousNonEmpty = headLineConsumed;
        int end = in.writerIndex();
        // Line by line: ByteBuf.indexOf finds each line's end eight bytes at a time, where a
        // getByte per byte pays an index and reference-count check each (a head with a session
        // cookie is several hundred bytes, on every request).
        for (int i = in.readerIndex(); i < end; ) {
            byte first = in.getByte(i);
            if ((first == ' ' || first == '\t') && previousNonEmpty) {
                return true;
            }
            int lf = in.indexOf(i, end, (byte) '\n');
            if (lf < 0) {
                return false;
            }
            if (hasNonCr(in, i, lf)) {
                previousNonEmpty = true;
            } else if (previousNonEmpty) {
                return false;
            }
            i = lf + 1;
        }
        return false;
    }

    /** Whether a line (without its LF) holds anything but CR: an empty line ends the head. */
    private static boolean hasNonCr(ByteBuf in, int from, int to) {
        for (int i = from; i < to; i++) {
            if (in.getByte(i) != '\r') {
                return true;
            }
        }
        return false;
    }

    private static boolean hasText(ByteBuf in, int from, int to) {
        for (int i = from; i < to; i++) {
            byte b = in.getByte(i);
            if (b != '\r' && b != '\n' && b != ' ' && b != '\t') {
                return true;
            }
        }
        return false;
    }

    /** The path of a target for the access line: no query, bounded length. */
    private static String pathOf(String uri) {
        int query = uri.indexOf('?');
        String path = query < 0 ? uri : uri.substring(0, query);
        return path.length() > 256 ? path.substring(0, 256) : path;
    }
}
