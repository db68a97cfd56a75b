package org.jmapauthproxy.exchange;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;

import java.util.concurrent.ThreadLocalRandom;

/** What every step asks of a client's HTTP request: its body, its authority, its kind, its id. */
public final class HttpMessages {

    private HttpMessages() {
    }

    /**
     * Whether the client's request carries a body: a declared length above zero, chunked coding, or
     * (HTTP/2, which has neither) a method that normally sends one.
     */
    public static boolean hasBody(HttpServerRequest request) {
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null) {
            return !"0".equals(length.trim());
        }
        if (request.version() == HttpVersion.HTTP_2) {
            HttpMethod method = request.method();
            return method == HttpMethod.POST || method == HttpMethod.PUT || method == HttpMethod.PATCH;
        }
        return request.headers().contains(HttpHeaders.TRANSFER_ENCODING);
    }

    /**
     * The authority the client addressed: {@code Host}, or HTTP/2's {@code :authority}; for an
     * HTTP/1.0 request without either, the address the client connected to.
     */
    public static String authority(HttpServerRequest request) {
        String host = request.getHeader(HttpHeaders.HOST);
        if (host == null && request.authority() != null) {
            host = request.authority().toString();
        }
        if (host == null) {
            SocketAddress local = request.localAddress();
            String address = local.hostAddress();
            host = (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + local.port();
        }
        return host;
    }

    /** Whether the client asks to upgrade to a WebSocket (RFC 6455 §4.1). */
    public static boolean isWebSocketUpgrade(HttpServerRequest request) {
        String upgrade = request.getHeader(HttpHeaders.UPGRADE);
        return upgrade != null && "websocket".equalsIgnoreCase(upgrade.trim());
    }

    /** Whether the client asks for an event stream (EventSource, JMAP push). */
    public static boolean isEventStream(HttpServerRequest request) {
        String accept = request.getHeader(HttpHeaders.ACCEPT);
        return accept != null && accept.contains("text/event-stream");
    }

    /** The client's request id when it is short and plain, else a fresh random one. */
    public static String requestId(String offered) {
        if (offered != null && !offered.isEmpty() && offered.length() <= 128 && isPlain(offered)) {
            return offered;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return Long.toHexString(random.nextLong() | Long.MIN_VALUE) + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
    }

    private static boolean isPlain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) {
                return false;
            }
        }
        return true;
    }
}
