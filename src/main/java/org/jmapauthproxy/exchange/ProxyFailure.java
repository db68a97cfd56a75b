package org.jmapauthproxy.exchange;

import java.util.Locale;

/**
 * The one exception that carries a request's outcome when it is not proxied: the HTTP status, a
 * stable machine-readable reason (used in logs and metrics) and a human title for the problem body.
 * It never carries secrets and is thrown without a stack trace, since it is an expected outcome.
 */
public final class ProxyFailure extends RuntimeException {

    /** Why a request was not proxied; each maps to exactly one status. */
    public enum Reason {
        NO_TOKEN(401, "Authentication required"),
        INVALID_TOKEN(401, "Invalid or expired session token"),
        UNKNOWN_SESSION(401, "Unknown or expired session"),
        BAD_CREDENTIALS(401, "Stored credentials cannot be used"),
        ORIGIN_REJECTED_CREDENTIALS(401, "The origin rejected the stored credentials"),
        UPLOAD_TOO_LARGE(413, "Request body too large"),
        METHOD_NOT_ALLOWED(405, "Method not allowed"),
        REQUEST_TIMEOUT(408, "Request not received in time"),
        URI_TOO_LONG(414, "Request target too long"),
        HEADERS_TOO_LARGE(431, "Request header fields too large"),
        TOO_MANY_CONNECTIONS(503, "Too many client connections"),
        STORE_UNAVAILABLE(503, "Session store unavailable"),
        ORIGIN_BUSY(503, "Origin connection pool exhausted"),
        SHUTTING_DOWN(503, "The proxy is shutting down"),
        ORIGIN_UNREACHABLE(502, "Origin unreachable"),
        ORIGIN_TIMEOUT(504, "Origin did not answer in time"),
        BAD_REQUEST(400, "Malformed request"),
        // RFC 8620 §3.6.1 names no status for urn:ietf:params:jmap:error:limit; its own example
        // of that problem type ("limit": "maxSizeRequest") is sent with 400.
        JMAP_LIMIT(400, "Request over a limit the JMAP server advertises"),
        INTERNAL(500, "Internal proxy error");

        private final int status;
        private final String title;

        Reason(int status, String title) {
            this.status = status;
            this.title = title;
        }

        public int status() {
            return status;
        }

        public String title() {
            return title;
        }

        /** The label used in logs and metrics, e.g. {@code invalid_token}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Reason reason;
    private final String jmapLimit;

    public ProxyFailure(Reason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
        this.jmapLimit = null;
    }

    public ProxyFailure(Reason reason, String detail, Throwable cause) {
        super(detail, cause, false, false);
        this.reason = reason;
        this.jmapLimit = null;
    }

    private ProxyFailure(String jmapLimit, String detail) {
        super(detail, null, false, false);
        this.reason = Reason.JMAP_LIMIT;
        this.jmapLimit = jmapLimit;
    }

    /**
     * A request refused for one of the limits of the JMAP session's core capability (RFC 8620 §2),
     * answered as RFC 8620 §3.6.1 prescribes: problem type {@code urn:ietf:params:jmap:error:limit}
     * with a {@code limit} property naming it.
     *
     * @param limit the limit's name in the capability, e.g. {@code maxSizeRequest}
     */
    public static ProxyFailure jmapLimit(String limit, String detail) {
        return new ProxyFailure(limit, detail);
    }

    /** The JMAP limit a {@link Reason#JMAP_LIMIT} refusal names, else {@code null}. */
    public String jmapLimit() {
        return jmapLimit;
    }

    public Reason reason() {
        return reason;
    }

    public int status() {
        return reason.status();
    }
}
