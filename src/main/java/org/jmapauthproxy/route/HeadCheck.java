package org.jmapauthproxy.route;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.jmapauthproxy.exchange.ProxyFailure.Reason;

import java.util.List;
import java.util.Locale;

/**
 * The rules an HTTP/1.x request head must pass before any of it reaches the route (RFC 9112). The
 * proxy is a security boundary in front of an origin that may frame a message differently, so every
 * head whose framing or target could be read two ways is refused instead of being "repaired".
 *
 * <p>Pure functions of the decoded head; {@link RequestHeadDecoder} applies them on the event loop.
 */
final class HeadCheck {

    /** What a refused head gets: a reason (status) and a detail that quotes nothing the client sent. */
    record Refusal(Reason reason, String detail) {
    }

    /** Methods the origin serves (JMAP, CalDAV, CardDAV), for the {@code Allow} header of a 405. */
    static final String ALLOWED_METHODS =
            "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, PROPFIND, PROPPATCH, MKCOL, MKCALENDAR, COPY, MOVE, "
                    + "LOCK, UNLOCK, REPORT, ACL";

    private HeadCheck() {
    }

    /**
     * Checks a decoded head and brings an absolute-form target to origin form in place.
     *
     * @param chunkedWithLength whether the decoder saw both {@code Transfer-Encoding: chunked} and a
     *                          {@code Content-Length} (Netty drops the length before the head is seen)
     * @return why the head is refused, or {@code null} when it may go on
     */
    static Refusal check(HttpRequest request, boolean chunkedWithLength) {
        HttpMethod method = request.method();
        if (method == HttpMethod.CONNECT || method == HttpMethod.TRACE) {
            // CONNECT would open a tunnel to a host of the client's choosing; TRACE would echo the
            // origin's view of the request, Basic credentials included (cross-site tracing).
            return new Refusal(Reason.METHOD_NOT_ALLOWED, method.name() + " is not served");
        }
        HttpHeaders headers = request.headers();
        Refusal framing = framing(request.protocolVersion(), headers, chunkedWithLength);
        if (framing != null) {
            return framing;
        }
        List<String> hosts = headers.getAll("Host");
        if (hosts.size() > 1) {
            return new Refusal(Reason.BAD_REQUEST, "more than one Host header");
        }
        String host = hosts.isEmpty() ? null : hosts.get(0).trim();
        if (host == null && request.protocolVersion() != HttpVersion.HTTP_1_0) {
            return new Refusal(Reason.BAD_REQUEST, "Host header missing");
        }
        if (host != null && !isHostAndPort(host)) {
            return new Refusal(Reason.BAD_REQUEST, "Host is not a valid host[:port]");
        }
        String uri = request.uri();
        if (uri.startsWith("/")) {
            return null;
        }
        String originForm = originForm(uri, host);
        if (originForm == null) {
            return new Refusal(Reason.BAD_REQUEST, "request target must be a path, or an absolute URL of this host");
        }
        if (host == null) {
            headers.set("Host", authorityOf(uri));
        }
        request.setUri(originForm);
        return null;
    }

    /**
     * Body framing (RFC 9112 §6): {@code Transfer-Encoding} is accepted only as exactly one
     * {@code chunked} on HTTP/1.1, never next to a {@code Content-Length}; {@code Connection} may not
     * name a header that frames or routes the message, since a hop would then drop it.
     */
    static Refusal framing(HttpVersion version, HttpHeaders headers, boolean chunkedWithLength) {
        List<String> codings = headers.getAll("Transfer-Encoding");
        if (!codings.isEmpty()) {
            if (version == HttpVersion.HTTP_1_0) {
                return new Refusal(Reason.BAD_REQUEST, "Transfer-Encoding on HTTP/1.0");
            }
            if (codings.size() != 1 || !"chunked".equalsIgnoreCase(codings.get(0).trim())) {
                return new Refusal(Reason.BAD_REQUEST, "Transfer-Encoding other than chunked");
            }
            if (chunkedWithLength || headers.contains("Content-Length")) {
                return new Refusal(Reason.BAD_REQUEST, "both Transfer-Encoding and Content-Length");
            }
        }
        for (String value : headers.getAll("Connection")) {
            for (String token : value.split(",")) {
                String name = token.trim().toLowerCase(Locale.ROOT);
                if (name.equals("content-length") || name.equals("transfer-encoding") || name.equals("host")) {
                    return new Refusal(Reason.BAD_REQUEST, "Connection names an end-to-end header");
                }
            }
        }
        return null;
    }

    /**
     * The origin form ({@code /path?query}) of an absolute-form target that names {@code host}, or
     * {@code null} for any other target (another authority, another scheme, asterisk form, garbage).
     */
    static String originForm(String target, String host) {
        String lower = target.toLowerCase(Locale.ROOT);
        int schemeEnd;
        if (lower.startsWith("http://")) {
            schemeEnd = "http://".length();
        } else if (lower.startsWith("https://")) {
            schemeEnd = "https://".length();
        } else {
            return null;
        }
        String authority = authorityOf(target);
        if (authority.isEmpty() || authority.indexOf('@') >= 0 || !isHostAndPort(authority)
                || (host != null && !host.equalsIgnoreCase(authority))) {
            return null;
        }
        int pathStart = schemeEnd + authority.length();
        if (pathStart == target.length()) {
            return "/";
        }
        char next = target.charAt(pathStart);
        if (next == '/') {
            return target.substring(pathStart);
        }
        return next == '?' ? "/" + target.substring(pathStart) : null;
    }

    private static String authorityOf(String absolute) {
        int start = absolute.indexOf("://") + 3;
        int end = start;
        while (end < absolute.length() && "/?#".indexOf(absolute.charAt(end)) < 0) {
            end++;
        }
        return absolute.substring(start, end);
    }

    /** {@code host [":" port]} as RFC 3986 §3.2.2-3 allows it in {@code Host}; the port at most 65535. */
    static boolean isHostAndPort(String value) {
        if (value.isEmpty()) {
            return false;
        }
        int hostEnd;
        if (value.charAt(0) == '[') {
            hostEnd = value.indexOf(']');
            if (hostEnd < 2 || !isIpLiteral(value, 1, hostEnd)) {
                return false;
            }
            hostEnd++;
        } else {
            hostEnd = value.lastIndexOf(':');
            if (hostEnd < 0) {
                hostEnd = value.length();
            }
            if (hostEnd == 0 || !isRegName(value, 0, hostEnd)) {
                return false;
            }
        }
        if (hostEnd == value.length()) {
            return true;
        }
        if (value.charAt(hostEnd) != ':') {
            return false;
        }
        return isPort(value, hostEnd + 1);
    }

    private static boolean isIpLiteral(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(isHex(c) || c == ':' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    private static boolean isRegName(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= to || !isHex(s.charAt(i + 1)) || !isHex(s.charAt(i + 2))) {
                    return false;
                }
                i += 2;
            } else if (!(isAlphaNum(c) || "-._~!$&'()*+,;=".indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }

    private static boolean isPort(String s, int from) {
        int digits = s.length() - from;
        if (digits < 1 || digits > 5) {
            return false;
        }
        int port = 0;
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
            port = port * 10 + (c - '0');
        }
        return port <= 65535;
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static boolean isAlphaNum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    }
}
