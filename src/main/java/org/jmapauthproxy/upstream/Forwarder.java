package org.jmapauthproxy.upstream;

import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import org.jmapauthproxy.credential.OriginCredential;
import org.jmapauthproxy.exchange.Exchange;
import org.jmapauthproxy.exchange.HttpMessages;
import org.jmapauthproxy.exchange.LongLivedStreams;
import org.jmapauthproxy.exchange.OpenChannels;
import org.jmapauthproxy.exchange.Tracing;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;
import org.jmapauthproxy.exchange.RequestState;
import org.jmapauthproxy.exchange.ResponseInterceptor;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Sends one client request to the origin and streams the answer back.
 *
 * <p>Both bodies flow through a {@link BodyRelay}, which pauses the reading side whenever the writing
 * side's queue is full, so a slow reader (client or origin) throttles the other end instead of
 * growing the heap. Nothing is buffered whole except by a {@link ResponseInterceptor} that takes the response over.
 */
public final class Forwarder {

    private final Vertx vertx;
    private final Origin origin;
    private final long firstByteTimeoutMillis;
    private final long firstByteTimeoutNanos;
    private final AtomicInteger openStreams;
    private final AtomicInteger requestsInFlight = new AtomicInteger();
    private final AtomicInteger streamsInFlight = new AtomicInteger();
    private final LongLivedStreams longLived;
    private final List<ResponseInterceptor> interceptors;
    private final long maxUploadSize;
    private final OpenChannels channels;
    private final Clock clock;
    private final Tracing tracing;
    /** Each event loop's first-byte deadlines (see {@link FirstByteDeadlines}). */
    private final ThreadLocal<FirstByteDeadlines> deadlines;

    /**
     * @param openStreams gauge of event streams currently relayed
     * @param interceptors the chain every exchange passes through, in order
     */
    public Forwarder(Vertx vertx, Origin origin, long firstByteTimeoutMillis, AtomicInteger openStreams,
                     LongLivedStreams longLived, List<ResponseInterceptor> interceptors, long maxUploadSize,
                     OpenChannels channels, Clock clock, Tracing tracing) {
        this.interceptors = List.copyOf(interceptors);
        this.tracing = tracing;
        this.maxUploadSize = maxUploadSize;
        this.channels = channels;
        this.clock = clock;
        this.vertx = vertx;
        this.origin = origin;
        this.firstByteTimeoutMillis = firstByteTimeoutMillis;
        this.firstByteTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(firstByteTimeoutMillis);
        this.openStreams = openStreams;
        this.longLived = longLived;
        this.deadlines = ThreadLocal.withInitial(() -> new FirstByteDeadlines(vertx));
    }

    /**
     * Forwards the (paused) client request. Failures before the response starts go to
     * {@code ctx.fail(ProxyFailure)}; failures after it close the client connection.
     */
    public void forward(Exchange ctx, OriginCredential credential, RequestState state) {
        if (!Context.isOnEventLoopThread()) {
            // The route calls this on the client connection's event loop, whose deadline list it
            // uses; from any other thread the exchange moves onto an event loop first.
            vertx.getOrCreateContext().runOnContext(v -> forward(ctx, credential, state));
            return;
        }
        boolean eventStream = HttpMessages.isEventStream(ctx.request());
        AtomicInteger inFlight = eventStream ? streamsInFlight : requestsInFlight;
        inFlight.incrementAndGet();
        ctx.onEnd(inFlight::decrementAndGet);
        long deadline = System.nanoTime() + firstByteTimeoutNanos;
        FirstByteDeadlines.Deadline firstByte = deadlines.get().add(deadline);
        ctx.onEnd(firstByte::cancel);
        // One span for the exchange, retries on a closed pooled connection included.
        state.originSpan(tracing.origin(state.span(), ctx.request().method().name(), ctx.request().path(),
                origin.host(), origin.port()));
        dispatch(ctx, credential, state, eventStream, 0, deadline, firstByte);
    }

    private static final Handler<AsyncResult<Void>> NO_COMPLETION = null;

    /** Attempts a safe request gets when pooled connections turn out closed one after another. */
    static final int MAX_ATTEMPTS = 3;

    /**
     * @param deadline {@link System#nanoTime()} by which the origin's answer must have begun: waiting
     *                 for a pooled connection counts against it, so a saturated pool cannot hold a
     *                 request longer than the origin timeout
     * @param firstByte the same deadline, which resets the attempt that is waiting for its answer
     */
    private void dispatch(Exchange ctx, OriginCredential credential, RequestState state, boolean eventStream,
                          int attempt, long deadline, FirstByteDeadlines.Deadline firstByte) {
        HttpServerRequest request = ctx.request();
        HttpClient client = eventStream ? origin.streams() : origin.requests();
        RequestOptions options = new RequestOptions()
                .setMethod(request.method())
                .setHost(origin.host())
                .setPort(origin.port())
                .setSsl(origin.ssl())
                .setURI(origin.basePath() + request.uri())
                .setConnectTimeout(remainingMillis(deadline));
        BooleanSupplier retry = () -> {
            if (attempt + 1 < MAX_ATTEMPTS && isRetryable(request) && !ctx.response().closed()) {
                dispatch(ctx, credential, state, eventStream, attempt + 1, deadline, firstByte);
                return true;
            }
            return false;
        };
        client.request(options).onComplete(ar -> {
            if (ar.failed()) {
                if (ar.cause() instanceof HttpClosedException && retry.getAsBoolean()) {
                    return;
                }
                if (!ctx.response().closed()) {
                    ctx.fail(OriginFailures.beforeRequest(ar.cause(), firstByteTimeoutMillis));
                }
                return;
            }
            HttpClientRequest originRequest = ar.result();
            if (ctx.response().closed()) {
                // The client left while its request waited for a connection: none of it goes out.
                originRequest.reset();
                return;
            }
            HeaderPolicy.toOrigin(request.headers(), originRequest.headers(), credential.authorization(),
                    state.originCookie(), state.forwarded(), state.requestId());
            // After the client's headers: the origin sees the proxy's span as parent, not the client's.
            tracing.inject(state.originSpan(), originRequest.headers());
            for (ResponseInterceptor interceptor : interceptors) {
                interceptor.outgoing(request, originRequest.headers());
            }
            send(ctx, originRequest, state, eventStream, retry, firstByte);
        });
    }

    private static long remainingMillis(long deadline) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
    }

    /**
     * A request without a body whose method is safe (RFC 9110 §9.2.1) may be sent again when the
     * pooled connection it went out on turns out to have been closed by the origin (the keep-alive
     * race every reverse proxy meets: the origin closes an idle connection just as it is reused).
     */
    static boolean isRetryable(HttpServerRequest request) {
        HttpMethod method = request.method();
        return (method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS)
                && !HttpMessages.hasBody(request);
    }

    private void send(Exchange ctx, HttpClientRequest originRequest, RequestState state, boolean eventStream,
                      BooleanSupplier retryOnClosedConnection, FirstByteDeadlines.Deadline firstByte) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        // The client went away mid-exchange: drop the origin exchange too, which closes that
        // connection instead of returning a half-used one to the pool. A finished exchange is left
        // alone: Vert.x also calls this when a keep-alive client leaves after its response ended, and
        // a reset closes the connection even once the origin's answer has fully arrived, when the
        // connection may already be back in the pool serving another client. "Finished" is when the
        // answer has arrived whole on the connection (ProcessingFilter sees it), which can be long
        // before a slow client has been sent its end.
        AtomicBoolean originDone = new AtomicBoolean();
        // The exchange's failures are handled where its response and body are consumed; without a
        // handler Vert.x would also log each reset (client gone, upload cut) as an unhandled error.
        originRequest.exceptionHandler(e -> { });
        ctx.onClose(() -> {
            if (!response.ended() && !originDone.get()) {
                originRequest.reset();
            }
        });
        originRequest.response().onComplete(ar -> {
            if (ar.failed()) {
                if (response.closed() || response.ended()) {
                    // The client left first and its leaving reset this exchange, or the proxy has
                    // answered already (an upload over the limit): nothing more to report.
                    firstByte.cancel();
                    return;
                }
                if (ar.cause() instanceof HttpClosedException && !response.headWritten()
                        && retryOnClosedConnection.getAsBoolean()) {
                    // The next attempt waits under the same deadline.
                    return;
                }
                firstByte.cancel();
                if (!response.headWritten()) {
                    ctx.fail(OriginFailures.afterRequest(ar.cause()));
                }
                return;
            }
            firstByte.cancel();
            io.netty.handler.codec.http.HttpHeaders originHead =
                    ProcessingFilter.watchArrival(originRequest.connection(), originDone);
            state.firstByte(System.nanoTime());
            state.originAnswered(ar.result().statusCode());
            ar.result().end().onComplete(end -> {
                originDone.set(true);
                state.endOrigin(end.failed() ? "aborted" : null);
            });
            relay(ctx, ar.result(), originHead, eventStream, state, originDone);
        });
        if (HttpMessages.hasBody(request)) {
            if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
                // The proxy answered the Expect itself (and removed it); tell the client to go on now
                // that the request is authenticated and an origin connection is ready.
                response.writeContinue();
            }
            // The origin's answer is due a timeout after the last of the body went out, not after
            // its first byte: an upload that keeps flowing is not cut, one that stalls still is.
            Runnable progress = () -> firstByte.postpone(System.nanoTime() + firstByteTimeoutNanos);
            ReadStream<Buffer> body;
            if (request.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
                // A declared length was checked against the limit before the token.
                body = new BoundedBody(request, Long.MAX_VALUE, () -> { }, progress);
            } else {
                // A body without one (chunked, HTTP/2) is counted as it flows and cut where it
                // passes the limit.
                originRequest.setChunked(true);
                // A JMAP limit of the user's session (maxSizeRequest, maxSizeUpload) may be lower.
                boolean jmapLimit = state.bodyLimit() >= 0 && state.bodyLimit() < maxUploadSize;
                long limit = jmapLimit ? state.bodyLimit() : maxUploadSize;
                body = new BoundedBody(request, limit, () -> {
                    // Answer first: resetting the origin exchange fails its response at once.
                    if (!response.headWritten()) {
                        ctx.fail(jmapLimit
                                ? ProxyFailure.jmapLimit(state.bodyLimitName(), "body exceeds " + limit + " bytes")
                                : new ProxyFailure(Reason.UPLOAD_TOO_LARGE, "body exceeds " + limit + " bytes"));
                    } else {
                        ctx.cut();
                    }
                    originRequest.reset();
                }, progress);
            }
            // A body that arrives whole with its head (most JMAP calls) goes out with the request's
            // head in one write. No target is ended by anyone else: only a reset stops it.
            BodyRelay.start(body, originRequest, () -> false,
                    BodyRelay.declaredLength(originRequest.headers().get(HttpHeaders.CONTENT_LENGTH)), failure -> {
                        if (failure != null) {
                            originRequest.reset();
                        }
                    });
        } else {
            if (!request.isEnded()) {
                request.resume();
            }
            // No completion handler: a failed write fails the response, which is handled above.
            originRequest.end(NO_COMPLETION);
        }
        // Last, as a timer would fire: a deadline already passed (a long wait for a pooled connection)
        // resets the request at once, after it has been set up.
        firstByte.watch(() -> originRequest.reset(0, new TimeoutException("origin first byte")));
    }

    /** Abandons the origin exchange unless its response already arrived whole (see {@link #send}). */
    private static void abandon(HttpClientResponse originResponse, AtomicBoolean originDone) {
        if (!originDone.get()) {
            originResponse.request().reset();
        }
    }

    /** @param originHead the origin response's headers as Netty decoded them, or {@code null} */
    private void relay(Exchange ctx, HttpClientResponse originResponse,
                       io.netty.handler.codec.http.HttpHeaders originHead, boolean eventStream,
                       RequestState state, AtomicBoolean originDone) {
        HttpServerResponse response = ctx.response();
        // Failures of the origin body are handled where it is consumed (relay, rewriter); this keeps
        // Vert.x from logging a reset exchange as an unhandled error in between.
        originResponse.exceptionHandler(e -> { });
        if (response.closed() || response.ended()) {
            abandon(originResponse, originDone);
            return;
        }
        if (originResponse.statusCode() == 401) {
            // The stored credential no longer works. Cyrus's "WWW-Authenticate: Basic" must not reach
            // a browser (it would open a password dialog); the client gets the proxy's Bearer challenge.
            originResponse.end();
            ctx.fail(new ProxyFailure(Reason.ORIGIN_REJECTED_CREDENTIALS, "origin answered 401"));
            return;
        }
        response.setStatusCode(originResponse.statusCode());
        if (originHead != null) {
            HeaderPolicy.toClient(originHead, response.headers());
        } else {
            HeaderPolicy.toClient(originResponse.headers(), response.headers());
        }
        if (!interceptors.isEmpty()) {
            // Whoever writes the head (the relay below or a link that takes over), this runs just before.
            HttpServerRequest request = ctx.request();
            ctx.onHeadersEnd(() -> {
                for (ResponseInterceptor interceptor : interceptors) {
                    interceptor.incoming(request, response.headers());
                }
            });
        }
        for (ResponseInterceptor interceptor : interceptors) {
            if (interceptor.takesOver(ctx, originResponse)) {
                interceptor.takeOver(ctx, originResponse);
                return;
            }
        }
        if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH) && mayHaveBody(ctx.request().method(), originResponse.statusCode())) {
            if (ctx.request().version() == HttpVersion.HTTP_1_0) {
                // HTTP/1.0 has no chunked coding: the body ends where the connection does, also for
                // a client that asked to keep it (Vert.x would answer keep-alive and leave the
                // connection open, so that client would wait for the body's end until a timeout).
                ctx.onHeadersEnd(() -> response.headers().set(HttpHeaders.CONNECTION, "close"));
                ctx.onEnd(() -> {
                    if (!response.closed()) {
                        response.close();
                    }
                });
            } else {
                response.setChunked(true);
            }
        }
        boolean[] draining = {false};
        boolean[] finished = {false};
        Runnable[] unregister = {() -> { }};
        BodyRelay.start(originResponse, response, () -> response.ended() || response.closed(),
                BodyRelay.declaredLength(response.headers().get(HttpHeaders.CONTENT_LENGTH)), failure -> {
            finished[0] = true;
            unregister[0].run();
            if (failure == null) {
                return;
            }
            if (draining[0]) {
                if (!response.ended() && !response.closed()) {
                    response.end();
                }
                return;
            }
            // The origin broke off mid-body, or the client left (its close reset the origin exchange).
            // A truncated body must not look complete: reset both hops.
            abandon(originResponse, originDone);
            ctx.cut();
        });
        if (eventStream && !finished[0]) {
            state.streamOpened();
            openStreams.incrementAndGet();
            ctx.onEnd(openStreams::decrementAndGet);
            // At shutdown the stream is ended, not cut: the client's EventSource then reconnects.
            // Registered once the relay is in place, and run on this exchange's event loop, so that
            // ending it never races with the relay being set up (the shutdown calls from its own thread).
            Context context = vertx.getOrCreateContext();
            Runnable end = () -> context.runOnContext(v -> {
                draining[0] = true;
                abandon(originResponse, originDone);
            });
            Runnable atShutdown = longLived.register(end);
            // Deleting or changing the session, or the token's expiry, ends the stream the same way.
            Runnable watch = channels.register(state.sessionKey(), state.fingerprint(), end);
            long expiry = vertx.setTimer(Math.max(1, state.expiresAt() * 1000 - clock.millis()), id -> end.run());
            unregister[0] = () -> {
                atShutdown.run();
                watch.run();
                vertx.cancelTimer(expiry);
            };
        }
    }

    /** Requests currently holding (or waiting for) a connection of the ordinary pool. */
    public AtomicInteger requestsInFlight() {
        return requestsInFlight;
    }

    /** Event streams currently holding (or waiting for) a connection of the stream pool. */
    public AtomicInteger streamsInFlight() {
        return streamsInFlight;
    }

    static boolean mayHaveBody(HttpMethod method, int status) {
        return method != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
    }
}
