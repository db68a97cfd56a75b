package org.jmapauthproxy.jmap;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import org.jmapauthproxy.exchange.ResponseInterceptor;

import java.util.List;
import java.util.Locale;

/**
 * Points every URL the origin sends about itself at the proxy, like nginx's {@code proxy_redirect
 * default}: a {@code Location} or {@code Content-Location} that is an absolute URL on the origin's
 * own scheme, host and port is rebased onto the proxy's public base ({@link PublicBase}, the one the
 * JMAP session uses), with the origin URL's path prefix taken off. Cyrus builds such URLs from the
 * {@code Host} it received, which is the origin's own authority, for {@code /.well-known/jmap},
 * {@code /.well-known/caldav}, {@code /.well-known/carddav} and DAV redirects; a client following
 * them would land on the origin, bypassing the proxy (and might carry its session token there).
 *
 * <p>Relative values and URLs on other hosts stay as they are. Only headers are rewritten: response
 * bodies (DAV multistatus {@code href}s) are streamed untouched, apart from the JMAP session document.
 */
public final class LocationRebaser implements ResponseInterceptor {

    static final List<String> HEADERS = List.of("Location", "Content-Location");

    private final PublicBase publicBase;
    private final String originHost;
    private final int originPort;
    private final String originBasePath;

    /**
     * @param originHost     the origin URL's host, as the proxy addresses it (and sends it in {@code Host})
     * @param originPort     its port, the scheme's default when the URL names none
     * @param originBasePath the origin URL's path without a trailing slash, {@code ""} when none
     */
    public LocationRebaser(PublicBase publicBase, String originHost, int originPort, String originBasePath) {
        this.publicBase = publicBase;
        this.originHost = originHost;
        this.originPort = originPort;
        this.originBasePath = originBasePath;
    }

    @Override
    public void incoming(HttpServerRequest request, MultiMap clientHeaders) {
        String base = null;
        for (String name : HEADERS) {
            List<String> values = clientHeaders.getAll(name);
            if (values.isEmpty()) {
                continue;
            }
            boolean changed = false;
            String[] out = new String[values.size()];
            for (int i = 0; i < out.length; i++) {
                String path = originPath(values.get(i));
                if (path == null) {
                    out[i] = values.get(i);
                } else {
                    if (base == null) {
                        base = publicBase.of(request);
                    }
                    out[i] = base + path;
                    changed = true;
                }
            }
            if (changed) {
                clientHeaders.remove(name);
                for (String value : out) {
                    clientHeaders.add(name, value);
                }
            }
        }
    }

    /**
     * The path (with query and fragment) that {@code value} names on the origin, the origin URL's path
     * prefix taken off; {@code null} when it is relative or names another host, port or scheme.
     */
    String originPath(String value) {
        String url = value.trim();
        int rest;
        int defaultPort;
        if (url.regionMatches(true, 0, "http://", 0, 7)) {
            rest = 7;
            defaultPort = 80;
        } else if (url.regionMatches(true, 0, "https://", 0, 8)) {
            rest = 8;
            defaultPort = 443;
        } else {
            return null;
        }
        int end = rest;
        while (end < url.length() && "/?#".indexOf(url.charAt(end)) < 0) {
            end++;
        }
        String authority = url.substring(rest, end);
        if (authority.indexOf('@') >= 0) {
            // userinfo: nothing Cyrus sends about itself
            return null;
        }
        String host = authority;
        int port = defaultPort;
        int colon = authority.lastIndexOf(':');
        if (colon >= 0 && authority.indexOf(']', colon) < 0) {
            host = authority.substring(0, colon);
            String digits = authority.substring(colon + 1);
            if (!digits.isEmpty()) {
                try {
                    port = Integer.parseInt(digits);
                } catch (NumberFormatException e) {
                    return null;
                }
            }
        }
        if (!sameHost(host) || port != originPort) {
            return null;
        }
        String path = url.substring(end);
        if (path.isEmpty() || path.charAt(0) != '/') {
            path = "/" + path;
        }
        if (!originBasePath.isEmpty() && path.startsWith(originBasePath)
                && (path.length() == originBasePath.length() || "/?#".indexOf(path.charAt(originBasePath.length())) >= 0)) {
            path = path.substring(originBasePath.length());
            if (path.isEmpty() || path.charAt(0) != '/') {
                path = "/" + path;
            }
        }
        return path;
    }

    private boolean sameHost(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        String o = originHost.startsWith("[") && originHost.endsWith("]")
                ? originHost.substring(1, originHost.length() - 1) : originHost;
        return h.toLowerCase(Locale.ROOT).equals(o.toLowerCase(Locale.ROOT));
    }
}
