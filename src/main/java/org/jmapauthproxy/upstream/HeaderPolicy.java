package org.jmapauthproxy.upstream;

import io.netty.handler.codec.http.HttpHeaders;
import io.vertx.core.MultiMap;
import org.jmapauthproxy.exchange.Forwarded;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

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

    /**
     * Request headers by which a front proxy tells the origin about the client; from a client that is
     * not such a trusted hop they would be forged claims (address, path prefix, original URL).
     */
    static final Set<String> CLIENT_FORWARDING = Set.of(
            "x-real-ip", "x-forwarded-port", "x-forwarded-prefix", "x-forwarded-server", "x-original-url",
            "x-rewrite-url", "x-forwarded-ssl", "x-forwarded-scheme", "x-client-ip", "true-client-ip");

    /** Response headers that describe the origin's own hop and would mislead the client. */
    static final Set<String> ORIGIN_ONLY_ON_RESPONSE = Set.of("alt-svc");

    private static final String CONNECTION = "Connection";

    /** {@code Connection} tokens that name no header beyond those dropped anyway: the hop-by-hop ones and {@code close}. */
    private static final HeaderNames NAMING_NOTHING_MORE = HeaderNames.of(HOP_BY_HOP, Set.of("close"));

    /** The sets above, compared ignoring case: no lower-cased copy of every header name. */
    private static final HeaderNames NOT_COPIED_TO_ORIGIN = HeaderNames.of(HOP_BY_HOP, REPLACED_ON_REQUEST);
    private static final HeaderNames NOT_COPIED_FROM_UNTRUSTED = HeaderNames.of(HOP_BY_HOP, REPLACED_ON_REQUEST,
            CLIENT_FORWARDING);
    private static final HeaderNames NOT_COPIED_TO_CLIENT = HeaderNames.of(HOP_BY_HOP, ORIGIN_ONLY_ON_RESPONSE);

    private HeaderPolicy() {
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
        HeaderNames notCopied = forwarded.trusted() ? NOT_COPIED_TO_ORIGIN : NOT_COPIED_FROM_UNTRUSTED;
        copy(entries(in), notCopied, named, out);
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
        copy(entries(in), NOT_COPIED_TO_CLIENT, connectionTokens(in), out);
    }

    /** The same from the origin response's head as Netty decoded it (see {@link ProcessingFilter#watchArrival}). */
    static void toClient(HttpHeaders in, MultiMap out) {
        copy(in.iteratorCharSequence(), NOT_COPIED_TO_CLIENT,
                in.contains(CONNECTION) ? connectionTokens(in.getAll(CONNECTION)) : Set.of(), out);
    }

    /**
     * A header map's entries as stored. Vert.x's own map ({@code HeadersMultiMap}, a Netty
     * {@code HttpHeaders} as well) holds the names as the HTTP decoder made them, byte strings the
     * encoder copies whole; its {@code MultiMap} view would turn each into a {@code String} first,
     * which the encoder then writes character by character.
     */
    private static Iterator<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> entries(MultiMap map) {
        return map instanceof HttpHeaders stored ? stored.iteratorCharSequence() : map.iterator();
    }

    private static void copy(Iterator<? extends Map.Entry<? extends CharSequence, ? extends CharSequence>> in,
                             HeaderNames notCopied, Set<String> named, MultiMap out) {
        while (in.hasNext()) {
            Map.Entry<? extends CharSequence, ? extends CharSequence> header = in.next();
            CharSequence name = header.getKey();
            if (!notCopied.contains(name) && (named.isEmpty() || !named.contains(name.toString()))) {
                out.add(name, header.getValue());
            }
        }
    }

    /**
     * Header names listed in {@code Connection} (RFC 9110 §7.6.1), compared ignoring case. The common
     * {@code keep-alive} and {@code close} name nothing that is not dropped anyway.
     */
    static Set<String> connectionTokens(MultiMap headers) {
        return headers.contains(CONNECTION) ? connectionTokens(headers.getAll(CONNECTION)) : Set.of();
    }

    private static Set<String> connectionTokens(List<String> connectionValues) {
        Set<String> names = null;
        for (String value : connectionValues) {
            int n = value.length();
            for (int from = 0; from <= n; ) {
                int comma = value.indexOf(',', from);
                int to = comma < 0 ? n : comma;
                // As String.trim: what is left of a list member once spaces and controls are cut off.
                int start = from;
                int end = to;
                while (start < end && value.charAt(start) <= ' ') {
                    start++;
                }
                while (end > start && value.charAt(end - 1) <= ' ') {
                    end--;
                }
                if (start < end && !NAMING_NOTHING_MORE.contains(value, start, end)) {
                    if (names == null) {
                        names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
                    }
                    names.add(value.substring(start, end));
                }
                from = to + 1;
            }
        }
        return names == null ? Set.of() : names;
    }
}
