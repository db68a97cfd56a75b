package org.jmapauthproxy.upstream;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import org.jmapauthproxy.exchange.Exchange;
import org.jmapauthproxy.credential.OriginCredential;
import org.jmapauthproxy.exchange.LongLivedStreams;
import org.jmapauthproxy.exchange.OpenChannels;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;
import org.jmapauthproxy.exchange.RequestState;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * JMAP over WebSocket (RFC 8887) through the proxy. The upgrade request has passed the same token
 * and session checks as any request; the origin handshake carries the origin credential and never
 * the client's token or token cookie. Frames are relayed one by one (fragments included, so no
 * message is assembled in memory) with backpressure in both directions, and the socket is closed
 * with 1008 (policy violation) when the session token expires.
 */
public final class WebSocketRelay {

    /** RFC 6455 §7.4.1: the endpoint is terminating the connection because of a policy violation. */
    static final short POLICY_VIOLATION = 1008;
    /** RFC 6455 §7.4.1: going away (server shutting down). */
    static final short GOING_AWAY = 1001;

    private final Vertx vertx;
    private final Origin origin;
    private final Clock clock;
    private final AtomicInteger open;
    private final LongLivedStreams longLived;
    private final OpenChannels channels;

    public WebSocketRelay(Vertx vertx, Origin origin, Clock clock, AtomicInteger open, LongLivedStreams longLived,
                          OpenChannels channels) {
        this.channels = channels;
        this.vertx = vertx;
        this.origin = origin;
        this.clock = clock;
        this.open = open;
        this.longLived = longLived;
    }

    /** Upgrades the client's (paused) request and splices it to a WebSocket to the origin. */
    public void relay(Exchange ctx, OriginCredential credential, RequestState state) {
        HttpServerRequest request = ctx.request();
        WebSocketConnectOptions options = new WebSocketConnectOptions()
                .setHost(origin.host())
                .setPort(origin.port())
                .setSsl(origin.ssl())
                .setURI(origin.basePath() + request.uri())
                .setAllowOriginHeader(false);
        String protocols = request.getHeader("Sec-WebSocket-Protocol");
        if (protocols != null) {
            List<String> list = new ArrayList<>();
            for (String p : protocols.split(",")) {
                if (!p.isBlank()) {
                    list.add(p.trim());
                }
            }
            options.setSubProtocols(list);
        }
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        HeaderPolicy.toOrigin(request.headers(), headers, credential.authorization(), state.originCookie(),
                state.forwarded(), state.requestId());
        // The WebSocket client writes its own handshake headers; ours must not duplicate them.
        headers.names().removeIf(name -> name.regionMatches(true, 0, "sec-websocket-", 0, 14)
                || name.equalsIgnoreCase("origin"));
        String clientOrigin = request.getHeader(HttpHeaders.ORIGIN);
        if (clientOrigin != null) {
            headers.set(HttpHeaders.ORIGIN, clientOrigin);
        }
        options.setHeaders(headers);
        origin.webSockets().connect(options).onComplete(ar -> {
            if (ar.failed()) {
                boolean refusedCredential = ar.cause() instanceof UpgradeRejectedException rejected
                        && rejected.getStatus() == 401;
                ctx.fail(refusedCredential
                        ? new ProxyFailure(Reason.ORIGIN_REJECTED_CREDENTIALS, "origin refused the WebSocket credential")
                        : new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "origin WebSocket handshake failed", ar.cause()));
                return;
            }
            WebSocketBase toOrigin = ar.result();
            request.toWebSocket().onComplete(up -> {
                if (up.failed()) {
                    toOrigin.close();
                    return;
                }
                WebSocketBase toClient = up.result();
                open.incrementAndGet();
                state.streamOpened();
                splice(toClient, toOrigin);
                splice(toOrigin, toClient);
                long delay = Math.max(1, state.expiresAt() * 1000 - clock.millis());
                long expiry = vertx.setTimer(delay, id -> {
                    toClient.close(POLICY_VIOLATION, "session token expired");
                    toOrigin.close(POLICY_VIOLATION, "session token expired");
                });
                Runnable unregister = longLived.register(() -> {
                    toClient.close(GOING_AWAY, "proxy shutting down");
                    toOrigin.close(GOING_AWAY, "proxy shutting down");
                });
                Runnable unwatch = channels.register(state.sessionKey(), state.fingerprint(), () -> {
                    toClient.close(POLICY_VIOLATION, "session revoked");
                    toOrigin.close(POLICY_VIOLATION, "session revoked");
                });
                toClient.closeHandler(v -> {
                    unregister.run();
                    unwatch.run();
                    vertx.cancelTimer(expiry);
                    open.decrementAndGet();
                    if (!toOrigin.isClosed()) {
                        toOrigin.close(closeCode(toClient), toClient.closeReason());
                    }
                });
                toOrigin.closeHandler(v -> {
                    if (!toClient.isClosed()) {
                        toClient.close(closeCode(toOrigin), toOrigin.closeReason());
                    }
                });
            });
        });
    }

    /** Frames from {@code from} to {@code to}; reading pauses while {@code to}'s write queue is full. */
    private static void splice(WebSocketBase from, WebSocketBase to) {
        from.frameHandler((WebSocketFrame frame) -> {
            if (frame.isClose() || to.isClosed()) {
                return;
            }
            if (frame.isPing() || frame.type() == WebSocketFrameType.PONG) {
                // Vert.x answers pings itself on each hop; keep-alives stay on their hop.
                return;
            }
            to.writeFrame(frame);
            if (to.writeQueueFull()) {
                from.pause();
                to.drainHandler(v -> from.resume());
            }
        });
        from.exceptionHandler(e -> to.close());
    }

    private static short closeCode(WebSocketBase closed) {
        Short code = closed.closeStatusCode();
        // 1005/1006 are "no code"/"abnormal" markers that must not be sent on the wire (RFC 6455 §7.4.1).
        return code == null || code == 1005 || code == 1006 ? GOING_AWAY : code;
    }
}
