package org.jmapauthproxy.route;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.opentelemetry.api.trace.Span;
import org.jmapauthproxy.credential.CredentialService;
import org.jmapauthproxy.exchange.Admission;
import org.jmapauthproxy.exchange.Exchange;
import org.jmapauthproxy.exchange.Forwarded;
import org.jmapauthproxy.exchange.HttpMessages;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;
import org.jmapauthproxy.exchange.RequestState;
import org.jmapauthproxy.exchange.Tracing;
import org.jmapauthproxy.ops.RequestLog;
import org.jmapauthproxy.token.SessionToken;
import org.jmapauthproxy.token.TokenExtractor;
import org.jmapauthproxy.token.TokenVerifier;
import org.jmapauthproxy.upstream.Forwarder;
import org.jmapauthproxy.upstream.WebSocketRelay;

import java.util.List;

/**
 * The catch-all route: every request on the main port goes token → session → origin here.
 *
 * <p>It is the request handler of each {@link ProxyServer} listener, with no router in between (a
 * router would add a routing context per request for one route that matches everything), rather
 * than a declared Quarkus route, whose body handler reads the whole body before the handler runs.
 * Here the request is paused on arrival and stays paused while the token and the session are
 * checked; only then is its body piped to the origin.
 */
public final class ProxyRoute {

    private final TokenExtractor extractor;
    private final TokenVerifier verifier;
    private final CredentialService credentials;
    private final Forwarder forwarder;
    private final WebSocketRelay webSockets;
    private final RequestLog log;
    private final InFlight inFlight;
    private final long maxUploadSize;
    private final boolean trustForwarded;
    private final Cors cors;
    private final Admission admission;
    private final Tracing tracing;
    private final ProblemResponse problems = new ProblemResponse();

    /**
     * @param cors      the CORS policy; one without allowed origins changes nothing
     * @param admission the per-user check an authenticated request passes before it is forwarded
     */
    public ProxyRoute(TokenExtractor extractor, TokenVerifier verifier, CredentialService credentials,
                      Forwarder forwarder, WebSocketRelay webSockets, RequestLog log, InFlight inFlight,
                      long maxUploadSize, boolean trustForwarded, Cors cors, Admission admission,
                      Tracing tracing) {
        this.cors = cors;
        this.admission = admission;
        this.tracing = tracing;
        this.extractor = extractor;
        this.verifier = verifier;
        this.credentials = credentials;
        this.forwarder = forwarder;
        this.webSockets = webSockets;
        this.log = log;
        this.inFlight = inFlight;
        this.maxUploadSize = maxUploadSize;
        this.trustForwarded = trustForwarded;
    }

    /** Serves one request of the proxy port; any failure becomes a {@link ProblemResponse}. */
    public void handle(HttpServerRequest request) {
        request.pause();
        RequestState state = new RequestState(HttpMessages.requestId(request.getHeader("X-Request-Id")), System.nanoTime());
        Exchange ctx = new Exchange(request, state, problems);
        try {
            handle(ctx, request, state);
        } catch (Throwable unexpected) {
            // As a router would: whatever the route throws is answered, not left to hang.
            ctx.fail(unexpected);
        }
    }

    private void handle(Exchange ctx, HttpServerRequest request, RequestState state) {
        state.span(tracing.request(request.headers(), request.method().name(), request.path()));
        ctx.response().putHeader("X-Request-Id", state.requestId());
        if (inFlight.draining() && request.version() != HttpVersion.HTTP_2) {
            // Shutting down: this connection's next request should go to another instance. Vert.x
            // keeps the connection for the request's sake; close it once the response is written.
            ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
            ctx.onEnd(() -> {
                if (!ctx.response().closed()) {
                    ctx.response().close();
                }
            });
        }
        ctx.onEnd(() -> {
            leave(state);
            String outcome = log.ended(ctx, state);
            // An origin exchange still open here was cut (client gone, a failure): end it first.
            state.endOrigin(state.rejection() != null ? state.rejection().label() : ctx.response().ended() ? null : outcome);
            Tracing.endRequest(state.span(), ctx.response().getStatusCode(), outcome);
        });
        if (!inFlight.enter()) {
            ctx.fail(new ProxyFailure(Reason.SHUTTING_DOWN, "the proxy is shutting down"));
            return;
        }
        state.counted(true);
        if (cors.enabled()) {
            String origin = cors.allowedOrigin(request);
            if (origin != null && Cors.isPreflight(request)) {
                answerPreflight(ctx, origin, state);
                return;
            }
            // Whoever writes the head (the relay, a rewriter, the failure handler), this runs last.
            ctx.onHeadersEnd(() -> cors.actual(origin, ctx.response().headers()));
        }
        try {
            String path = request.path();
            if (path == null || !path.startsWith("/")) {
                // The front door already brings every target to origin form; this is the route's own guard.
                throw new ProxyFailure(Reason.BAD_REQUEST, "the request target must be a path");
            }
            if (request.method() == HttpMethod.CONNECT || request.method() == HttpMethod.TRACE) {
                // HTTP/1.x heads are refused by the FrontDoor already; this covers HTTP/2.
                throw new ProxyFailure(Reason.METHOD_NOT_ALLOWED, request.method().name() + " is not served");
            }
            checkDeclaredSize(request);
            SessionToken session = verifiedToken(request, state.span());
            state.user(session.subject());
            String account = session.subject() != null ? "sub:" + session.subject() : "sid:" + session.sessionId();
            state.account(account);
            Runnable release = admission.admit(request, account, state);
            ctx.onEnd(release);
            tracing.user(state.span(), session.subject());
            long lookupStart = System.nanoTime();
            Span lookup = tracing.step(state.span(), Tracing.LOOKUP);
            credentials.credentialFor(session).onComplete(ar -> {
                state.lookupTook(System.nanoTime() - lookupStart);
                Tracing.endStep(lookup, ar.failed() ? reasonOf(ar.cause()) : null);
                if (ar.failed()) {
                    ctx.fail(ar.cause());
                    return;
                }
                if (ctx.response().closed()) {
                    return;
                }
                state.authorised(ar.result().sessionKey(), ar.result()::fingerprint, session.expiresAt());
                state.client(forwarded(request), cookieForOrigin(request));
                if (HttpMessages.isWebSocketUpgrade(request)) {
                    // An upgraded exchange never ends as HTTP; the WebSocket is ended at shutdown
                    // with the event streams (close code 1001), so it is not waited for as a request.
                    leave(state);
                    webSockets.relay(ctx, ar.result().credential(), state);
                } else {
                    forwarder.forward(ctx, ar.result().credential(), state);
                }
            });
        } catch (ProxyFailure failure) {
            ctx.fail(failure);
        }
    }

    /** A preflight from an allowed origin: answered here, no token asked, nothing sent to the origin. */
    private void answerPreflight(Exchange ctx, String origin, RequestState state) {
        state.answeredPreflight();
        HttpServerRequest request = ctx.request();
        cors.preflight(request, origin, ctx.response().headers());
        if (!request.isEnded()) {
            // A preflight has no body; resuming lets the connection carry the next request.
            request.resume();
        }
        ctx.response().setStatusCode(204).end();
    }

    /** Finds the token and verifies it, as the {@link Tracing#TOKEN} step of the request. */
    private SessionToken verifiedToken(HttpServerRequest request, Span parent) {
        Span span = tracing.step(parent, Tracing.TOKEN);
        try {
            TokenExtractor.Found found = extractor.find(request.getHeader(HttpHeaders.AUTHORIZATION),
                    request.headers().getAll(HttpHeaders.COOKIE));
            if (found instanceof TokenExtractor.Missing) {
                throw new ProxyFailure(Reason.NO_TOKEN, extractor.missingDetail());
            }
            if (!(found instanceof TokenExtractor.Compact compact)) {
                throw new ProxyFailure(Reason.INVALID_TOKEN, "malformed session token");
            }
            SessionToken session = verifier.verify(compact.jwt());
            Tracing.endStep(span, null);
            return session;
        } catch (ProxyFailure failure) {
            Tracing.endStep(span, failure.reason().label());
            throw failure;
        }
    }

    private static String reasonOf(Throwable failure) {
        return failure instanceof ProxyFailure f ? f.reason().label() : Reason.INTERNAL.label();
    }

    private void leave(RequestState state) {
        if (state.counted()) {
            state.counted(false);
            inFlight.leave();
        }
    }

    private void checkDeclaredSize(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length == null) {
            return;
        }
        long declared;
        try {
            declared = Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            throw new ProxyFailure(Reason.BAD_REQUEST, "invalid Content-Length");
        }
        if (declared < 0) {
            throw new ProxyFailure(Reason.BAD_REQUEST, "invalid Content-Length");
        }
        if (declared > maxUploadSize) {
            throw new ProxyFailure(Reason.UPLOAD_TOO_LARGE, "declared body exceeds " + maxUploadSize + " bytes");
        }
    }

    private String cookieForOrigin(HttpServerRequest request) {
        List<String> headers = request.headers().getAll(HttpHeaders.COOKIE);
        if (headers.isEmpty()) {
            return null;
        }
        StringBuilder kept = new StringBuilder();
        for (String header : headers) {
            String rest = extractor.withoutTokenCookie(header);
            if (rest != null && !rest.isEmpty()) {
                if (!kept.isEmpty()) {
                    kept.append("; ");
                }
                kept.append(rest);
            }
        }
        return kept.isEmpty() ? null : kept.toString();
    }

    private Forwarded forwarded(HttpServerRequest request) {
        String remote = request.remoteAddress() == null ? "unknown" : request.remoteAddress().hostAddress();
        String host = HttpMessages.authority(request);
        if (!trustForwarded) {
            return new Forwarded(remote, request.scheme(), host, false);
        }
        String chain = request.getHeader("X-Forwarded-For");
        String proto = request.getHeader("X-Forwarded-Proto");
        String fwdHost = request.getHeader("X-Forwarded-Host");
        return new Forwarded(
                chain == null ? remote : chain + ", " + remote,
                proto == null ? request.scheme() : proto,
                fwdHost == null ? host : fwdHost,
                true);
    }
}
