package org.jmapauthproxy.route;

import org.jmapauthproxy.route.ProxyFailure.Reason;

/**
 * What the proxy learns about one request on its way, for the access log and the metrics.
 * Touched only on the request's event-loop thread.
 */
public final class RequestState {

    /** Key under which the state is stored in the routing context. */
    public static final String KEY = "authproxy.state";

    private final String requestId;
    private final long startNanos;
    private long lookupNanos = -1;
    private long firstByteNanos = -1;
    private Reason rejection;
    private String user;
    private boolean stream;
    private boolean counted;
    private boolean preflight;

    public RequestState(String requestId, long startNanos) {
        this.requestId = requestId;
        this.startNanos = startNanos;
    }

    public String requestId() {
        return requestId;
    }

    public long startNanos() {
        return startNanos;
    }

    public void lookupTook(long nanos) {
        this.lookupNanos = nanos;
    }

    /** Credential lookup time, or -1 when no lookup happened. */
    public long lookupNanos() {
        return lookupNanos;
    }

    public void firstByte(long nanoTime) {
        this.firstByteNanos = nanoTime;
    }

    /** Origin time to first byte measured from the start of the request, or -1. */
    public long firstByteNanos() {
        return firstByteNanos < 0 ? -1 : firstByteNanos - startNanos;
    }

    public void rejected(Reason reason) {
        this.rejection = reason;
    }

    /** The proxy answered the request as a CORS preflight itself. */
    public void answeredPreflight() {
        this.preflight = true;
    }

    public boolean preflight() {
        return preflight;
    }

    /** Why the request was not proxied, or {@code null} when it was. */
    public Reason rejection() {
        return rejection;
    }

    public void user(String user) {
        this.user = user;
    }

    public String user() {
        return user;
    }

    public void streamOpened() {
        this.stream = true;
    }

    /** Marks the request as counted in {@link InFlight}. */
    void counted(boolean counted) {
        this.counted = counted;
    }

    boolean counted() {
        return counted;
    }

    /** Whether the response was a long-lived event stream. */
    public boolean stream() {
        return stream;
    }
}
