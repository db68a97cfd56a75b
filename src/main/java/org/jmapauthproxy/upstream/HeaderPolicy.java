package org.jmapauthproxy.upstream;

import io.vertx.core.MultiMap;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Which headers cross the proxy, in each direction.
 *
 * <p>Hop-by-hop headers (RFC 9110 §7.6.1) and every header named in {@code Connection} stay on their
 * hop. Towards the origin the client's {@code Authorization} and token cookie are replaced by the
 * origin credential, and {@code Expect} is answered by the proxy itself. Towards the client, what
 * Cyrus adds for its own plain-HTTP/1.1 hop ({@code Upgrade: h2c}, {@code Alt-Svc}) is dropped:
 * the client talks to the proxy, not to Cyrus.
 */
public final class HeaderPolicy {

    static final Set<String> HOP_BY_HOP = Set.of(
            "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
            "te", "trailer", "transfer-encoding", "upgrade");

    /** Request headers the proxy sets itself (or drops) instead of copying. */
    static final Set<String> REPLACED_ON_REQUEST = Set.of(
            "host", "authorization", "cookie", "expect", "x-request-id",
            "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "forwarded");

    /** Response headers that describe the origin's own hop and would mislead the client. */
    static final Set<String> ORIGIN_ONLY_ON_RESPONSE = Set.of("alt-svc");

    private HeaderPolicy() {
    }

    /** What the client's hop looked like, for the {@code X-Forwarded-*} headers. */
    public record Forwarded(String forwardedFor, String proto, String host) {
    }

    /**
     * Copies the client's request headers that may reach the origin into {@code out}, then sets the
     * origin credential, the remaining cookies, the forwarding headers and the request id.
     *
     * @param cookie the client's {@code Cookie} header without the token cookie, or {@code null}
     */
    public static void toOrigin(MultiMap in, MultiMap out, String authorization, String cookie,
                                Forwarded forwarded, String requestId) {
        Set<String> named = connectionTokens(in);
        for (Map.Entry<String, String> header : in) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name) && !REPLACED_ON_REQUEST.contains(name) && !named.contains(name)) {
                out.add(header.getKey(), header.getValue());
            }
        }
        if (authorization != null) {
            out.set("Authorization", authorization);
        }
        if (cookie != null) {
            out.set("Cookie", cookie);
        }
        out.set("X-Forwarded-For", forwarded.forwardedFor());
        out.set("X-Forwarded-Proto", forwarded.proto());
        if (forwarded.host() != null) {
            out.set("X-Forwarded-Host", forwarded.host());
        }
        out.set("X-Request-Id", requestId);
    }

    /** Copies the origin's response headers that may reach the client; repeated headers stay repeated. */
    public static void toClient(MultiMap in, MultiMap out) {
        Set<String> named = connectionTokens(in);
        for (Map.Entry<String, String> header : in) {
            String name = header.getKey().toLowerCase(Locale.ROOT);
            if (!HOP_BY_HOP.contains(name) && !ORIGIN_ONLY_ON_RESPONSE.contains(name) && !named.contains(name)) {
                out.add(header.getKey(), header.getValue());
            }
        }
    }

    /** Lower-case header names listed in {@code Connection} (RFC 9110 §7.6.1). */
    static Set<String> connectionTokens(MultiMap headers) {
        List<String> values = headers.getAll("Connection");
        if (values.isEmpty()) {
            return Set.of();
        }
        Set<String> names = new HashSet<>();
        for (String value : values) {
            for (String token : value.split(",")) {
                String name = token.trim().toLowerCase(Locale.ROOT);
                if (!name.isEmpty()) {
                    names.add(name);
                }
            }
        }
        return names;
    }
}
