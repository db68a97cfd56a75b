package org.jmapauthproxy.upstream;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.ext.web.RoutingContext;
import org.jmapauthproxy.credential.OriginCredential;
import org.jmapauthproxy.ops.LongLivedStreams;
import org.jmapauthproxy.route.ProxyFailure.Reason;
import org.jmapauthproxy.route.ProxyFailure;
import org.jmapauthproxy.route.ProxyRoute;
import org.jmapauthproxy.route.RequestState;

import java.net.ConnectException;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Sends one client request to the origin and streams the answer back.
 *
 * <p>Both bodies flow through Vert.x pipes, which pause the reading side whenever the writing side's
 * queue is full, so a slow reader (client or origin) throttles the other end instead of growing the
 * heap. Nothing is buffered whole except by a {@link ResponseRewriter} that needs the body.
 */
public final class Forwarder {

    private final Vertx vertx;
    private final Origin origin;
    private final long firstByteTimeoutMillis;
    private final AtomicInteger openStreams;
    private final AtomicInteger requestsInFlight = new AtomicInteger();
    private final AtomicInteger streamsInFlight = new AtomicInteger();
    private final LongLivedStreams longLived;
    private final List<ResponseRewriter> rewriters;

    /**
     * @param openStreams gauge of event streams currently relayed
     * @param rewriters   the responses the proxy changes instead of streaming, tried in order
     */
    public Forwarder(Vertx vertx, Origin origin, long firstByteTimeoutMillis, AtomicInteger openStreams,
                     LongLivedStreams longLived, List<ResponseRewriter> rewriters) {
        this.vertx = vertx;
        this.origin = origin;
        this.firstByteTimeoutMillis = firstByteTimeoutMillis;
        this.openStreams = openStreams;
        this.longLived = longLived;
        this.rewriters = List.copyOf(rewriters);
    }

    /**
     * Forwards the (paused) client request. Failures before the response starts go to
     * {@code ctx.fail(ProxyFailure)}; failures after it close the client connection.
     */
    public void forward(RoutingContext ctx, OriginCredential credential, String cookie,
                        HeaderPolicy.Forwarded forwarded, RequestState state) {
        boolean eventStream = isEventStream(ctx.request());
        AtomicInteger inFlight = eventStream ? streamsInFlight : requestsInFlight;
        inFlight.incrementAndGet();
        ctx.addEndHandler(v -> inFlight.decrementAndGet());
        dispatch(ctx, credential, cookie, forwarded, state, eventStream, 0);
    }

    /** Attempts a safe request gets when pooled connections turn out closed one after another. */
    static final int MAX_ATTEMPTS = 3;

    private void dispatch(RoutingContext ctx, OriginCredential credential, String cookie,
                          HeaderPolicy.Forwarded forwarded, RequestState state, boolean eventStream, int attempt) {
        HttpServerRequest request = ctx.request();
        HttpClient client = eventStream ? origin.streams() : origin.requests();
        RequestOptions options = new RequestOptions()
                .setMethod(request.method())
                .setHost(origin.host())
                .setPort(origin.port())
                .setSsl(origin.ssl())
                .setURI(origin.basePath() + request.uri());
        BooleanSupplier retry = () -> {
            if (attempt + 1 < MAX_ATTEMPTS && isRetryable(request) && !ctx.response().closed()) {
                dispatch(ctx, credential, cookie, forwarded, state, eventStream, attempt + 1);
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
                    ctx.fail(connectFailure(ar.cause()));
                }
                return;
            }
            HttpClientRequest originRequest = ar.result();
            HeaderPolicy.toOrigin(request.headers(), originRequest.headers(), credential.authorization(), cookie,
                    forwarded, state.requestId());
            for (ResponseRewriter rewriter : rewriters) {
                rewriter.prepare(request, originRequest.headers());
            }
            send(ctx, originRequest, state, eventStream, retry);
        });
    }

    /**
     * A request without a body whose method is safe (RFC 9110 §9.2.1) may be sent again when the
     * pooled connection it went out on turns out to have been closed by the origin (the keep-alive
     * race every reverse proxy meets: the origin closes an idle connection just as it is reused).
     */
    static boolean isRetryable(HttpServerRequest request) {
        HttpMethod method = request.method();
        return (method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS)
                && !ProxyRoute.hasBody(request);
    }

    private void send(RoutingContext ctx, HttpClientRequest originRequest, RequestState state, boolean eventStream,
                      BooleanSupplier retryOnClosedConnection) {
        HttpServerRequest request = ctx.request();
        HttpServerResponse response = ctx.response();
        // The client went away mid-exchange: drop the origin exchange too, which closes that
        // connection instead of returning a half-used one to the pool. A finished exchange is left
        // alone: Vert.x also calls this when a keep-alive client leaves after its response ended, and
        // a reset closes the connection even once the origin's answer has fully arrived, when the
        // connection may already be back in the pool serving another client.
        AtomicBoolean originDone = new AtomicBoolean();
        response.closeHandler(v -> {
            if (!response.ended() && !originDone.get()) {
                originRequest.reset();
            }
        });
        long timer = vertx.setTimer(firstByteTimeoutMillis,
                id -> originRequest.reset(0, new TimeoutException("origin first byte")));
        originRequest.response().onComplete(ar -> {
            vertx.cancelTimer(timer);
            if (ar.failed()) {
                if (response.closed()) {
                    // The client left first and its leaving reset this exchange: nothing to report.
                    return;
                }
                if (ar.cause() instanceof HttpClosedException && !response.headWritten()
                        && retryOnClosedConnection.getAsBoolean()) {
                    return;
                }
                if (!response.headWritten()) {
                    ctx.fail(ar.cause() instanceof TimeoutException || hasTimeoutCause(ar.cause())
                            ? new ProxyFailure(Reason.ORIGIN_TIMEOUT, "origin timed out")
                            : new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "origin failed", ar.cause()));
                }
                return;
            }
            state.firstByte(System.nanoTime());
            ar.result().end().onComplete(end -> originDone.set(true));
            relay(ctx, ar.result(), eventStream, state, originDone);
        });
        if (ProxyRoute.hasBody(request)) {
            if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
                // The proxy answered the Expect itself (and removed it); tell the client to go on now
                // that the request is authenticated and an origin connection is ready.
                response.writeContinue();
            }
            if (!request.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
                originRequest.setChunked(true);
            }
            request.pipe().endOnFailure(false).to(originRequest).onFailure(e -> originRequest.reset());
        } else {
            if (!request.isEnded()) {
                request.resume();
            }
            originRequest.end();
        }
    }

    private static boolean hasTimeoutCause(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** Abandons the origin exchange unless its response already arrived whole (see {@link #send}). */
    private static void abandon(HttpClientResponse originResponse, AtomicBoolean originDone) {
        if (!originDone.get()) {
            originResponse.request().reset();
        }
    }

    private void relay(RoutingContext ctx, HttpClientResponse originResponse, boolean eventStream, RequestState state,
                       AtomicBoolean originDone) {
        HttpServerResponse response = ctx.response();
        // Failures of the origin body are handled where it is consumed (pipe, rewriter); this keeps
        // Vert.x from logging a reset exchange as an unhandled error in between.
        originResponse.exceptionHandler(e -> { });
        if (response.closed()) {
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
        for (ResponseRewriter rewriter : rewriters) {
            if (rewriter.handles(ctx, originResponse)) {
                rewriter.rewrite(ctx, originResponse);
                return;
            }
        }
        response.setStatusCode(originResponse.statusCode());
        HeaderPolicy.toClient(originResponse.headers(), response.headers());
        if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH) && mayHaveBody(ctx.request().method(), originResponse.statusCode())) {
            response.setChunked(true);
        }
        boolean[] draining = {false};
        Runnable unregister = () -> { };
        if (eventStream) {
            state.streamOpened();
            openStreams.incrementAndGet();
            ctx.addEndHandler(v -> openStreams.decrementAndGet());
            // At shutdown the stream is ended, not cut: the client's EventSource then reconnects.
            unregister = longLived.register(() -> {
                draining[0] = true;
                abandon(originResponse, originDone);
            });
        }
        Runnable done = unregister;
        originResponse.pipe().endOnFailure(false).to(response).onComplete(ar -> {
            done.run();
            if (ar.succeeded()) {
                return;
            }
            if (draining[0]) {
                if (!response.ended() && !response.closed()) {
                    response.end();
                }
                return;
            }
            // Either side broke mid-body. A truncated body must not look complete: reset both hops.
            abandon(originResponse, originDone);
            response.reset();
        });
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

    static boolean isEventStream(HttpServerRequest request) {
        String accept = request.getHeader(HttpHeaders.ACCEPT);
        return accept != null && accept.contains("text/event-stream");
    }

    private static ProxyFailure connectFailure(Throwable cause) {
        if (cause instanceof ConnectException || hasTimeoutCause(cause)) {
            return new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "origin connect failed", cause);
        }
        String message = String.valueOf(cause.getMessage());
        if (message.contains("wait queue")) {
            return new ProxyFailure(Reason.ORIGIN_BUSY, "origin pool wait queue full", cause);
        }
        return new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "origin connect failed", cause);
    }
}
