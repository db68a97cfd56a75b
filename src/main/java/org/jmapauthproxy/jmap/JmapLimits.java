package org.jmapauthproxy.jmap;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import org.jmapauthproxy.exchange.Admission;
import org.jmapauthproxy.exchange.ProxyFailure;
import org.jmapauthproxy.exchange.RequestState;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Enforces, per user, the limits the origin advertises in the JMAP session's core capability
 * (RFC 8620 §2) and does not enforce itself (Cyrus documents that it does not enforce
 * {@code maxConcurrentRequests} nor {@code maxConcurrentUpload}):
 * {@code maxConcurrentRequests} and {@code maxSizeRequest} on {@code POST} to the API URL,
 * {@code maxConcurrentUpload} and {@code maxSizeUpload} on {@code POST} to the upload URL.
 *
 * <p>The limits and the two URLs are learned from the session document as it passes through the
 * proxy ({@link SessionRewriter}), for the user who fetched it, and replaced whenever a newer one
 * passes; a user whose session has not passed through this proxy instance is not limited. Counts are
 * per proxy instance. A declared {@code Content-Length} over a size limit is refused before the
 * origin is contacted; a body without one is counted as it flows and cut where it passes the limit.
 * Refusals are RFC 8620 §3.6.1 problems ({@link ProxyFailure#jmapLimit}).
 */
public final class JmapLimits implements Admission {

    static final String CORE = "urn:ietf:params:jmap:core";

    /**
     * Users remembered at most. Past it, those with nothing in flight are forgotten (they are limited
     * again once their session passes anew): a bound on memory, whoever holds tokens.
     */
    static final int MAX_ACCOUNTS = 100_000;

    private static final Runnable NOTHING = () -> { };

    /**
     * The limits of one session document; a value of 0 means none advertised.
     *
     * @param apiPath      the API URL's path, e.g. {@code /jmap/}
     * @param uploadPrefix the upload URL's path up to its first template variable, e.g. {@code /jmap/upload/}
     */
    public record Limits(String apiPath, String uploadPrefix, long maxConcurrentRequests, long maxSizeRequest,
                         long maxConcurrentUpload, long maxSizeUpload) {

        /** The limits of a session document, or {@code null} when it has no core capability or API URL. */
        static Limits of(JsonObject session) {
            JsonObject capabilities = session.getValue("capabilities") instanceof JsonObject c ? c : null;
            JsonObject core = capabilities != null && capabilities.getValue(CORE) instanceof JsonObject c ? c : null;
            if (core == null || !(session.getValue("apiUrl") instanceof String apiUrl)) {
                return null;
            }
            String uploadPrefix = null;
            if (session.getValue("uploadUrl") instanceof String uploadUrl) {
                String path = SessionRewriter.pathOf(uploadUrl);
                int brace = path.indexOf('{');
                uploadPrefix = decoded(brace < 0 ? path : path.substring(0, brace));
            }
            return new Limits(decoded(withoutQuery(SessionRewriter.pathOf(apiUrl))), uploadPrefix,
                    number(core, "maxConcurrentRequests"), number(core, "maxSizeRequest"),
                    number(core, "maxConcurrentUpload"), number(core, "maxSizeUpload"));
        }

        private static long number(JsonObject core, String name) {
            return core.getValue(name) instanceof Number n && n.longValue() > 0 ? n.longValue() : 0;
        }

        private static String withoutQuery(String path) {
            int q = path.indexOf('?');
            return q < 0 ? path : path.substring(0, q);
        }

        boolean isApi(String path) {
            return path.equals(apiPath) || (apiPath.endsWith("/") && path.length() == apiPath.length() - 1
                    && apiPath.startsWith(path));
        }
    }

    /** One user's limits and what they have in flight; shared by every event loop. */
    private static final class Account {
        volatile Limits limits;
        final AtomicInteger requests = new AtomicInteger();
        final AtomicInteger uploads = new AtomicInteger();

        boolean idle() {
            return requests.get() == 0 && uploads.get() == 0;
        }
    }

    private final Map<String, Account> accounts = new ConcurrentHashMap<>();

    /** Records the limits {@code account}'s latest session document advertises ({@code null}: none). */
    public void learn(String account, Limits limits) {
        if (account == null) {
            return;
        }
        Account known = accounts.get(account);
        if (known == null) {
            if (limits == null) {
                return;
            }
            if (accounts.size() >= MAX_ACCOUNTS) {
                accounts.values().removeIf(Account::idle);
            }
            known = accounts.computeIfAbsent(account, a -> new Account());
        }
        known.limits = limits;
    }

    /** The limits learned for {@code account}, or {@code null}. */
    public Limits limitsOf(String account) {
        Account known = accounts.get(account);
        return known == null ? null : known.limits;
    }

    @Override
    public Runnable admit(HttpServerRequest request, String account, RequestState state) {
        if (request.method() != HttpMethod.POST) {
            return NOTHING;
        }
        Account known = accounts.get(account);
        Limits limits = known == null ? null : known.limits;
        if (limits == null) {
            return NOTHING;
        }
        String path = decoded(request.path());
        if (limits.isApi(path)) {
            return admit(request, state, limits.maxSizeRequest(), "maxSizeRequest", known.requests,
                    limits.maxConcurrentRequests(), "maxConcurrentRequests");
        }
        if (limits.uploadPrefix() != null && path.startsWith(limits.uploadPrefix())) {
            return admit(request, state, limits.maxSizeUpload(), "maxSizeUpload", known.uploads,
                    limits.maxConcurrentUpload(), "maxConcurrentUpload");
        }
        return NOTHING;
    }

    /**
     * The path as Cyrus matches it: with every percent escape decoded once, {@code %2F} included
     * ({@code POST /%6Amap/} and {@code /jmap%2F} reach its JMAP API, {@code /jmap/%75pload/alice/}
     * its upload), each escape as the one character of its byte value, which is all a comparison
     * with an ASCII path needs. A malformed escape stays as it is (Cyrus refuses such a path).
     */
    static String decoded(String path) {
        int i = path.indexOf('%');
        if (i < 0) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length()).append(path, 0, i);
        while (i < path.length()) {
            char c = path.charAt(i);
            int high = c == '%' && i + 2 < path.length() ? hex(path.charAt(i + 1)) : -1;
            int low = high >= 0 ? hex(path.charAt(i + 2)) : -1;
            if (low >= 0) {
                out.append((char) (high << 4 | low));
                i += 3;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** The value of an ASCII hex digit, or -1. */
    private static int hex(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private static Runnable admit(HttpServerRequest request, RequestState state, long maxSize, String sizeName,
                                  AtomicInteger inFlight, long maxConcurrent, String concurrentName) {
        if (maxSize > 0) {
            String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
            if (length != null && parse(length) > maxSize) {
                throw ProxyFailure.jmapLimit(sizeName, "declared body exceeds " + sizeName + " (" + maxSize + " bytes)");
            }
            state.bodyLimit(maxSize, sizeName);
        }
        if (maxConcurrent <= 0) {
            return NOTHING;
        }
        if (inFlight.incrementAndGet() > maxConcurrent) {
            inFlight.decrementAndGet();
            throw ProxyFailure.jmapLimit(concurrentName, "more than " + maxConcurrent + " at once (" + concurrentName + ")");
        }
        AtomicBoolean released = new AtomicBoolean();
        return () -> {
            if (released.compareAndSet(false, true)) {
                inFlight.decrementAndGet();
            }
        };
    }

    private static long parse(String length) {
        try {
            return Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            // The route refused an invalid Content-Length already.
            return -1;
        }
    }
}
