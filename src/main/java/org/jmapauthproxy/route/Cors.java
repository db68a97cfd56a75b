package org.jmapauthproxy.route;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * CORS (the Fetch standard's CORS protocol) for browser clients served from other origins, answered
 * by the proxy itself: the proxy port is the proxy's own Vert.x listener, so Quarkus's CORS filter
 * ({@code quarkus.http.cors}) never sees its requests.
 *
 * <p>A preflight from an allowed origin is answered here, without a token (browsers never send
 * credentials on a preflight) and without reaching the origin. Every other response to an allowed
 * origin, problem documents included, carries the CORS headers; the origin's own
 * {@code Access-Control-*} headers are replaced, so that what the browser is told depends on the
 * proxy's list alone. A request from any other origin gets no CORS header at all, and its preflight
 * takes the ordinary way (a token is needed, so it is refused with 401 and the browser gives up).
 */
public final class Cors {

    /** What JMAP (RFC 8620), WebDAV (RFC 4918), CalDAV (RFC 4791, 6638) and CardDAV (RFC 6352) clients send. */
    static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH",
            "PROPFIND", "PROPPATCH", "REPORT", "MKCOL", "MKCALENDAR", "COPY", "MOVE", "LOCK", "UNLOCK", "ACL");

    /** Request headers a client may ask for in a preflight; others are left out of the answer. */
    static final Set<String> REQUEST_HEADERS = anyCase(List.of("authorization", "content-type", "accept",
            "accept-language", "content-language", "cache-control", "last-event-id", "x-request-id",
            "x-requested-with", "depth", "destination", "overwrite", "if", "if-match", "if-none-match",
            "if-modified-since", "if-unmodified-since", "if-schedule-tag-match", "lock-token", "timeout",
            "prefer", "brief", "range"));

    /** Response headers a script may read besides the CORS-safelisted ones. */
    static final String EXPOSED = "Location, Content-Location, X-Request-Id, Retry-After, WWW-Authenticate, ETag, "
            + "DAV, Schedule-Tag, Preference-Applied, Content-Range";

    private final Set<String> allowedOrigins;
    private final String maxAgeSeconds;

    /** @param allowedOrigins exact origins, as browsers send them ({@code https://mail.example.com}) */
    public Cors(Collection<String> allowedOrigins, Duration maxAge) {
        this.allowedOrigins = Set.copyOf(allowedOrigins);
        this.maxAgeSeconds = Long.toString(Math.max(0, maxAge.toSeconds()));
    }

    /** Whether any origin is allowed at all; with none, responses are left as the origin sent them. */
    public boolean enabled() {
        return !allowedOrigins.isEmpty();
    }

    /** The request's {@code Origin} when it is one of the allowed origins, else {@code null}. */
    public String allowedOrigin(HttpServerRequest request) {
        String origin = request.getHeader(HttpHeaders.ORIGIN);
        return origin != null && allowedOrigins.contains(origin) ? origin : null;
    }

    /** Whether the request is a CORS preflight: {@code OPTIONS} with {@code Origin} and {@code Access-Control-Request-Method}. */
    public static boolean isPreflight(HttpServerRequest request) {
        return request.method() == HttpMethod.OPTIONS && request.headers().contains(HttpHeaders.ORIGIN)
                && request.headers().contains(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD);
    }

    /** The headers of the proxy's 204 answer to a preflight from {@code origin}. */
    public void preflight(HttpServerRequest request, String origin, MultiMap out) {
        out.set(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                .set(HttpHeaders.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")
                .set(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, String.join(", ", METHODS))
                .set(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, allowedHeaders(
                        request.headers().getAll(HttpHeaders.ACCESS_CONTROL_REQUEST_HEADERS)))
                .set(HttpHeaders.ACCESS_CONTROL_MAX_AGE, maxAgeSeconds)
                .set(HttpHeaders.VARY, "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    }

    /**
     * {@code authorization, content-type} and whichever of the requested headers are allowed, in the
     * order asked for. Chromium checks each requested name against this list, case-insensitively.
     */
    static String allowedHeaders(List<String> requested) {
        Set<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        StringBuilder out = new StringBuilder("authorization, content-type");
        names.add("authorization");
        names.add("content-type");
        for (String value : requested) {
            for (String token : value.split(",")) {
                String name = token.trim().toLowerCase(Locale.ROOT);
                if (!name.isEmpty() && REQUEST_HEADERS.contains(name) && names.add(name)) {
                    out.append(", ").append(name);
                }
            }
        }
        return out.toString();
    }

    /**
     * Puts the CORS headers of an actual response into {@code headers}, removing the origin's own:
     * for {@code origin}, or none at all when it is {@code null} (a disallowed or absent origin).
     */
    public void actual(String origin, MultiMap headers) {
        List<String> names = headers.names().stream()
                .filter(name -> name.regionMatches(true, 0, "Access-Control-", 0, 15)).toList();
        names.forEach(headers::remove);
        addVaryOrigin(headers);
        if (origin != null) {
            headers.set(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                    .set(HttpHeaders.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")
                    .set(HttpHeaders.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
        }
    }

    /** The answer depends on {@code Origin}: a shared cache must not give one origin's answer to another. */
    private static void addVaryOrigin(MultiMap headers) {
        for (String value : headers.getAll(HttpHeaders.VARY)) {
            for (String token : value.split(",")) {
                String name = token.trim();
                if (name.equals("*") || name.equalsIgnoreCase("Origin")) {
                    return;
                }
            }
        }
        headers.add(HttpHeaders.VARY, "Origin");
    }

    private static Set<String> anyCase(List<String> names) {
        TreeSet<String> set = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        set.addAll(names);
        return set;
    }

    /** For tests and logs: the allowed origins, sorted. */
    public List<String> allowedOrigins() {
        return allowedOrigins.stream().sorted().toList();
    }
}
