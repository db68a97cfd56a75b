package org.jmapauthproxy.exchange;

import io.opentelemetry.api.trace.Span;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;

import java.util.function.Supplier;

/**
 * One exchange on its way through the steps: what the front learnt about the client (its forwarding
 * facts, the cookies meant for the origin), what the token and session steps decided, and what the
 * access log and the metrics report. Touched only on the request's event-loop thread.
 */
public final class RequestState {

    private final String requestId;
    private final long startNanos;
    private long lookupNanos = -1;
    private long firstByteNanos = -1;
    private Reason rejection;
    private String user;
    private boolean stream;
    private boolean counted;
    private String sessionKey;
    private Supplier<String> fingerprint;
    private long expiresAt;
    private boolean preflight;
    private String account;
    private String refusedLimit;
    private long bodyLimit = -1;
    private String bodyLimitName;
    private Span span = Span.getInvalid();
    private String traceId;
    private Span originSpan = Span.getInvalid();
    private Forwarded forwarded;
    private String originCookie;

    public RequestState(String requestId, long startNanos) {
        this.requestId = requestId;
        this.startNanos = startNanos;
    }

    public String requestId() {
        return requestId;
    }

    /**
     * What the client's hop looked like and the {@code Cookie} header meant for the origin (the
     * client's without the token cookie, {@code null} when nothing is left).
     */
    public void client(Forwarded forwarded, String originCookie) {
        this.forwarded = forwarded;
        this.originCookie = originCookie;
    }

    public Forwarded forwarded() {
        return forwarded;
    }

    public String originCookie() {
        return originCookie;
    }

    /** The request's span ({@link Span#getInvalid()} when tracing is off). */
    public void span(Span span) {
        this.span = span;
        this.traceId = Tracing.traceId(span);
    }

    public Span span() {
        return span;
    }

    /** The request's trace id, or {@code null} when tracing is off. */
    public String traceId() {
        return traceId;
    }

    /** The origin exchange's span, once it has begun. */
    public void originSpan(Span span) {
        this.originSpan = span;
    }

    public Span originSpan() {
        return originSpan;
    }

    /** The origin's answer has begun: an event on the origin span, with the origin's status. */
    public void originAnswered(int status) {
        if (originSpan.isRecording()) {
            originSpan.addEvent("first byte");
            originSpan.setAttribute(Tracing.STATUS, (long) status);
        }
    }

    /**
     * Ends the origin span (at the end of the origin's body, or with the request) the first time
     * only; {@code reason} as in {@link Tracing#endStep}.
     */
    public void endOrigin(String reason) {
        Span span = originSpan;
        originSpan = Span.getInvalid();
        Tracing.endStep(span, reason);
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

    /** Who the request is counted against for the JMAP limits: the token's subject, else its session. */
    public void account(String account) {
        this.account = account;
    }

    public String account() {
        return account;
    }

    /**
     * A limit on the request body lower than {@code authproxy.max-upload-size}: the JMAP limit
     * {@code name} (e.g. {@code maxSizeRequest}) of {@code bytes}.
     */
    public void bodyLimit(long bytes, String name) {
        this.bodyLimit = bytes;
        this.bodyLimitName = name;
    }

    /** The body limit set by {@link #bodyLimit(long, String)}, or -1. */
    public long bodyLimit() {
        return bodyLimit;
    }

    public String bodyLimitName() {
        return bodyLimitName;
    }

    /** The proxy answered the request as a CORS preflight itself. */
    public void answeredPreflight() {
        this.preflight = true;
    }

    public boolean preflight() {
        return preflight;
    }

    /** The JMAP limit a {@code JMAP_LIMIT} refusal named. */
    public void refusedLimit(String limit) {
        this.refusedLimit = limit;
    }

    public String refusedLimit() {
        return refusedLimit;
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
    public void counted(boolean counted) {
        this.counted = counted;
    }

    public boolean counted() {
        return counted;
    }

    /** Whether the response was a long-lived event stream. */
    public boolean stream() {
        return stream;
    }

    /** The session that authorised the request: its store key, stored value and token expiry (epoch s). */
    public void authorised(String sessionKey, Supplier<String> fingerprint, long expiresAt) {
        this.sessionKey = sessionKey;
        this.fingerprint = fingerprint;
        this.expiresAt = expiresAt;
    }

    public String sessionKey() {
        return sessionKey;
    }

    /** The stored value that authorised the request (computed when asked: only channels need it). */
    public String fingerprint() {
        return fingerprint == null ? null : fingerprint.get();
    }

    /** When the request's token expires, in seconds since the epoch. */
    public long expiresAt() {
        return expiresAt;
    }
}
