package org.jmapauthproxy.ops;

import io.vertx.core.http.HttpServerRequest;
import org.jmapauthproxy.exchange.Exchange;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;
import org.jmapauthproxy.exchange.RequestState;

/**
 * One access line and one set of metric updates per finished request. The line holds the method,
 * the path without its query (queries can hold ids the operator did not ask to log), status,
 * duration, bytes sent, request id, trace id (when tracing is on), outcome and, only when enabled, the token's {@code sub}.
 * Never a token, a cookie, a credential or a key.
 */
public final class RequestLog {

    private final ProxyMetrics metrics;
    private final AccessLog access;
    private final boolean logUser;

    public RequestLog(ProxyMetrics metrics, AccessLog access, boolean logUser) {
        this.metrics = metrics;
        this.access = access;
        this.logUser = logUser;
    }

    /** Logs and counts the finished request; returns its outcome ({@code proxied}, {@code aborted} or a reason). */
    public String ended(Exchange ctx, RequestState state) {
        long duration = System.nanoTime() - state.startNanos();
        int status = ctx.response().getStatusCode();
        boolean completed = ctx.response().ended();
        Reason rejection = state.rejection();
        String outcome = rejection != null ? rejection.label()
                : state.preflight() ? "preflight" : completed ? "proxied" : "aborted";
        metrics.requestEnded(outcome, status, duration);
        if (state.lookupNanos() >= 0) {
            metrics.lookupTook(state.lookupNanos());
        }
        if (state.firstByteNanos() >= 0) {
            metrics.firstByteAfter(state.firstByteNanos());
        }
        if (rejection == Reason.STORE_UNAVAILABLE) {
            metrics.storeError();
        }
        if (rejection == Reason.JMAP_LIMIT && state.refusedLimit() != null) {
            metrics.jmapLimitRefused(state.refusedLimit());
        }
        if (access.enabled()) {
            HttpServerRequest request = ctx.request();
            access.request(request.method().name(), request.path(), status, duration, ctx.response().bytesWritten(),
                    outcome, state.requestId(), state.traceId(), logUser ? state.user() : null);
        }
        return outcome;
    }

    /**
     * A request refused before it reached the route (at the front door: framing, deadlines, the
     * connection cap), counted and logged like any other outcome; {@code -} for what is unknown.
     */
    public void refused(String method, String path, Reason reason, String requestId) {
        metrics.requestEnded(reason.label(), reason.status(), 0);
        if (access.enabled()) {
            access.request(method, path, reason.status(), 0, 0, reason.label(), requestId, null, null);
        }
    }
}
