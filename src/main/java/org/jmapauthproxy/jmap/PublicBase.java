package org.jmapauthproxy.jmap;

import io.vertx.core.http.HttpServerRequest;
import org.jmapauthproxy.exchange.HttpMessages;

import java.util.Optional;

/**
 * The proxy's base URL as the client sees it ({@code scheme://host[:port]}, no trailing slash):
 * the configured {@code authproxy.public-url}; else {@code X-Forwarded-Proto/-Host} when those are
 * trusted; else the request's own scheme and {@code Host}.
 */
public final class PublicBase {

    private final String configured;
    private final boolean trustForwarded;

    public PublicBase(Optional<String> configured, boolean trustForwarded) {
        this.configured = configured.map(PublicBase::withoutTrailingSlash).orElse(null);
        this.trustForwarded = trustForwarded;
    }

    public String of(HttpServerRequest request) {
        if (configured != null) {
            return configured;
        }
        String scheme = request.scheme();
        String host = HttpMessages.authority(request);
        if (trustForwarded) {
            String fwdProto = firstValue(request.getHeader("X-Forwarded-Proto"));
            String fwdHost = firstValue(request.getHeader("X-Forwarded-Host"));
            if (fwdProto != null) {
                scheme = fwdProto;
            }
            if (fwdHost != null) {
                host = fwdHost;
            }
        }
        return scheme + "://" + host;
    }

    /** The WebSocket flavour of a base URL: {@code https} becomes {@code wss}, {@code http} {@code ws}. */
    static String webSocketBase(String base) {
        if (base.startsWith("https://")) {
            return "wss://" + base.substring("https://".length());
        }
        if (base.startsWith("http://")) {
            return "ws://" + base.substring("http://".length());
        }
        return base;
    }

    private static String firstValue(String header) {
        if (header == null) {
            return null;
        }
        int comma = header.indexOf(',');
        String first = (comma < 0 ? header : header.substring(0, comma)).trim();
        return first.isEmpty() ? null : first;
    }

    private static String withoutTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }
}
