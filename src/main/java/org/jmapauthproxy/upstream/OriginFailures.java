package org.jmapauthproxy.upstream;

import io.vertx.core.http.ConnectionPoolTooBusyException;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;

import java.net.ConnectException;
import java.util.concurrent.TimeoutException;

/**
 * The one place where a transport error on the origin hop becomes an outcome, by the exception's
 * type (never its message text): before a request could be sent (no connection) and after.
 */
final class OriginFailures {

    private OriginFailures() {
    }

    /**
     * No origin connection was had: the pool's queue was full or its wait outlived the request's
     * deadline (503 {@code origin_busy}, the origin is up but saturated), or connecting failed
     * (502 {@code origin_unreachable}).
     */
    static ProxyFailure beforeRequest(Throwable cause, long timeoutMillis) {
        if (cause instanceof ConnectionPoolTooBusyException) {
            return new ProxyFailure(Reason.ORIGIN_BUSY, "origin connection pool wait queue full", cause);
        }
        if (cause instanceof ConnectException || causedBy(cause, ConnectException.class)) {
            // Netty's connect timeout is a ConnectException too: nothing answered at the address.
            return new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "origin connect failed", cause);
        }
        if (causedBy(cause, TimeoutException.class)) {
            return new ProxyFailure(Reason.ORIGIN_BUSY, "no origin connection free within " + timeoutMillis + " ms", cause);
        }
        return new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "origin connect failed", cause);
    }

    /** The exchange broke after the request went out: timed out (504) or failed (502). */
    static ProxyFailure afterRequest(Throwable cause) {
        if (causedBy(cause, TimeoutException.class)) {
            return new ProxyFailure(Reason.ORIGIN_TIMEOUT, "origin timed out");
        }
        return new ProxyFailure(Reason.ORIGIN_UNREACHABLE, "origin failed", cause);
    }

    static boolean causedBy(Throwable error, Class<? extends Throwable> type) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
