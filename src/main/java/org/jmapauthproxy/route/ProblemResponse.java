package org.jmapauthproxy.route;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.http.HttpClosedException;
import org.jboss.logging.Logger;
import org.jmapauthproxy.exchange.Exchange;
import org.jmapauthproxy.exchange.FoldedWarnings;
import org.jmapauthproxy.exchange.HttpMessages;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;
import org.jmapauthproxy.exchange.RequestState;

import java.io.IOException;
import java.time.Duration;

/**
 * The one failure handler: turns a {@link ProxyFailure} (or anything unexpected) into an
 * RFC 9457 {@code application/problem+json} response. The body holds the status, a title, a short
 * detail, the request id and (when tracing is on) the trace id; never a token, a credential, an exception class or a stack trace.
 */
public final class ProblemResponse implements Handler<Exchange> {

    private static final Logger LOG = Logger.getLogger(ProblemResponse.class);
    /** During an outage every request fails alike: one line per cause, then a count per interval. */
    private static final FoldedWarnings WARNINGS = FoldedWarnings.every(Duration.ofSeconds(10), LOG);

    static final String CHALLENGE = "Bearer realm=\"jmap\"";
    static final String INVALID_TOKEN_CHALLENGE = "Bearer realm=\"jmap\", error=\"invalid_token\"";

    @Override
    public void handle(Exchange ctx) {
        Throwable cause = ctx.failure();
        ProxyFailure failure = cause instanceof ProxyFailure f ? f
                : new ProxyFailure(Reason.INTERNAL, "unexpected error");
        if (!(cause instanceof ProxyFailure)) {
            if (clientSide(ctx, cause)) {
                // What a client does (leaving, sending what Vert.x refuses) is never an ERROR line.
                LOG.debugf("exchange ended by the client side: %s", cause);
            } else {
                LOG.error("unexpected failure while proxying", cause);
            }
        }
        RequestState state = ctx.state();
        state.rejected(failure.reason());
        state.refusedLimit(failure.jmapLimit());
        HttpServerResponse response = ctx.response();
        if (response.closed() || response.ended()) {
            // The client is gone (its leaving is usually what failed the exchange): nothing to answer.
            return;
        }
        if (failure.status() >= 500 && cause instanceof ProxyFailure && failure.reason() != Reason.SHUTTING_DOWN) {
            // Operators need the cause of a 5xx; it comes from Netty or Redis and names hosts and
            // ports, never a token or a credential.
            WARNINGS.warn("request " + state.requestId() + ": ", failure.reason().label()
                    + " (" + (failure.getCause() == null ? failure.getMessage() : failure.getCause().toString()) + ")");
        }
        if (response.headWritten()) {
            // Too late for a status: the only honest signal left is an aborted connection.
            ctx.cut();
            return;
        }
        Reason reason = failure.reason();
        response.headers().clear();
        response.setStatusCode(reason.status())
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/problem+json")
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        response.putHeader("X-Request-Id", state.requestId());
        if (reason.status() == 401) {
            response.putHeader("WWW-Authenticate",
                    reason == Reason.NO_TOKEN ? CHALLENGE : INVALID_TOKEN_CHALLENGE);
        } else if (reason.status() == 503) {
            response.putHeader(HttpHeaders.RETRY_AFTER, "5");
        }
        if (reason == Reason.SHUTTING_DOWN && ctx.request().version() != HttpVersion.HTTP_2) {
            response.putHeader(HttpHeaders.CONNECTION, "close");
        }
        boolean unreadBody = !ctx.request().isEnded() && HttpMessages.hasBody(ctx.request())
                && ctx.request().version() != HttpVersion.HTTP_2;
        if (unreadBody) {
            // The body was never read; closing is the only way to keep the next request on this
            // connection from being parsed out of the middle of it.
            response.putHeader(HttpHeaders.CONNECTION, "close");
        }
        if (!ctx.request().isEnded()) {
            ctx.request().resume();
        }
        if (reason == Reason.METHOD_NOT_ALLOWED) {
            response.putHeader(HttpHeaders.ALLOW, HeadCheck.ALLOWED_METHODS);
        }
        response.end(document(reason, failure.getMessage(), state.requestId(), state.traceId(), failure.jmapLimit())).onComplete(v -> {
            if (unreadBody) {
                ctx.request().connection().close();
            }
        });
    }

    /**
     * The RFC 9457 problem document of a refusal; {@code requestId} and {@code traceId} may be
     * {@code null} (no trace id when tracing is off, or for a refusal at the front door, which
     * happens before a request has a span).
     *
     * @param jmapLimit the JMAP limit a {@link Reason#JMAP_LIMIT} refusal names: the document then has
     *                  RFC 8620 §3.6.1's type {@code urn:ietf:params:jmap:error:limit} and {@code limit};
     *                  {@code null} otherwise
     */
    static Buffer document(Reason reason, String detail, String requestId, String traceId, String jmapLimit) {
        JsonObject problem = new JsonObject()
                .put("type", jmapLimit == null ? "about:blank" : "urn:ietf:params:jmap:error:limit");
        if (jmapLimit != null) {
            problem.put("limit", jmapLimit);
        }
        problem.put("title", reason.title())
                .put("status", reason.status())
                .put("detail", detail)
                .put("reason", reason.label());
        if (requestId != null) {
            problem.put("requestId", requestId);
        }
        if (traceId != null) {
            problem.put("traceId", traceId);
        }
        return problem.toBuffer();
    }

    /**
     * Failures that come from the client's side of the exchange rather than from a proxy bug: the
     * connection closed or broke under it.
     */
    private static boolean clientSide(Exchange ctx, Throwable cause) {
        return ctx.response().closed() || cause instanceof HttpClosedException || cause instanceof IOException
                || cause.getCause() instanceof IOException;
    }
}
