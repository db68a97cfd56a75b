package org.jmapauthproxy.token;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Finds the session token in a client request and removes it from what is forwarded.
 *
 * <p>{@code Authorization: Bearer} wins; otherwise the configured cookie. For compatibility with
 * hyper-auth-proxy the cookie may hold the compact JWT, the JWT in double quotes, or standard base64
 * (padding optional) of either.
 */
public final class TokenExtractor {

    private static final String BEARER = "bearer ";

    private final String cookieName;
    private final String missingDetail;

    public TokenExtractor(String cookieName) {
        this.cookieName = cookieName;
        this.missingDetail = "no session token: send Authorization: Bearer <token> or the cookie named " + cookieName;
    }

    public String cookieName() {
        return cookieName;
    }

    /** The problem detail for {@link Missing}: where the proxy looked, so a client can tell what to send. */
    public String missingDetail() {
        return missingDetail;
    }

    /** Outcome of looking for a token. */
    public sealed interface Found permits Missing, Malformed, Compact {
    }

    /** No bearer header and no token cookie. */
    public record Missing() implements Found {
    }

    /** A token was offered but is not a compact JWT in any accepted form. */
    public record Malformed() implements Found {
    }

    /** A compact JWT ({@code header.payload.signature}). */
    public record Compact(String jwt) implements Found {
        @Override
        public String toString() {
            return "Compact[redacted]";
        }
    }

    private static final Missing MISSING = new Missing();
    private static final Malformed MALFORMED = new Malformed();

    /**
     * @param authorization the client's {@code Authorization} header, or {@code null}
     * @param cookieHeaders every {@code Cookie} header the client sent
     */
    public Found find(String authorization, List<String> cookieHeaders) {
        if (authorization != null && authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            String jwt = authorization.substring(BEARER.length()).trim();
            return isCompactJwt(jwt) ? new Compact(jwt) : MALFORMED;
        }
        for (String header : cookieHeaders) {
            String value = cookieValue(header, cookieName);
            if (value != null) {
                String jwt = normalizeCookieValue(value);
                return jwt == null ? MALFORMED : new Compact(jwt);
            }
        }
        return MISSING;
    }

    /**
     * The token cookie's value in a {@code Cookie} header (RFC 6265 §4.2.1: pairs separated by
     * {@code "; "}), or {@code null}.
     */
    static String cookieValue(String header, String name) {
        int i = 0;
        int n = header.length();
        while (i < n) {
            int end = header.indexOf(';', i);
            if (end < 0) {
                end = n;
            }
            int eq = header.indexOf('=', i);
            if (eq > i && eq < end) {
                // The pair's name, trimmed as String.trim would, compared in place.
                int from = i;
                int to = eq;
                while (from < to && header.charAt(from) <= ' ') {
                    from++;
                }
                while (to > from && header.charAt(to - 1) <= ' ') {
                    to--;
                }
                if (to - from == name.length() && header.startsWith(name, from)) {
                    return header.substring(eq + 1, end).trim();
                }
            }
            i = end + 1;
        }
        return null;
    }

    /**
     * The {@code Cookie} header without the token cookie, or {@code null} when nothing else remains,
     * so the origin never sees the session token.
     */
    public String withoutTokenCookie(String header) {
        StringBuilder kept = null;
        int i = 0;
        int n = header.length();
        boolean removed = false;
        while (i < n) {
            int end = header.indexOf(';', i);
            if (end < 0) {
                end = n;
            }
            String pair = header.substring(i, end).trim();
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq).trim();
            if (name.equals(cookieName)) {
                removed = true;
            } else if (!pair.isEmpty()) {
                if (kept == null) {
                    kept = new StringBuilder(header.length());
                } else {
                    kept.append("; ");
                }
                kept.append(pair);
            }
            i = end + 1;
        }
        if (!removed) {
            return header;
        }
        return kept == null ? null : kept.toString();
    }

    /** The compact JWT inside a cookie value, or {@code null} when it holds none. */
    static String normalizeCookieValue(String raw) {
        String value = unquote(raw.trim());
        if (isCompactJwt(value)) {
            return value;
        }
        String padded = padded(value);
        if (padded == null) {
            return null;
        }
        byte[] decoded;
        try {
            decoded = Base64.getDecoder().decode(padded);
        } catch (IllegalArgumentException notBase64) {
            return null;
        }
        String inner = unquote(new String(decoded, StandardCharsets.UTF_8).trim());
        return isCompactJwt(inner) ? inner : null;
    }

    /**
     * {@code base64} with its padding restored, or {@code null} when no padding could make it valid:
     * one character past a multiple of four carries only 6 bits, less than a byte (RFC 4648 §4).
     */
    static String padded(String base64) {
        return switch (base64.length() % 4) {
            case 0 -> base64;
            case 2 -> base64 + "==";
            case 3 -> base64 + "=";
            default -> null;
        };
    }

    private static String unquote(String s) {
        if (s.length() >= 2 && s.charAt(0) == '"' && s.charAt(s.length() - 1) == '"') {
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    /** Three non-empty base64url segments separated by dots (a JWS in compact serialization). */
    static boolean isCompactJwt(String s) {
        // Runs on every request over the whole token (hundreds of characters): one table lookup per
        // character instead of a chain of range tests.
        int dots = 0;
        int segment = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= JWT_CHARACTERS.length) {
                return false;
            }
            byte kind = JWT_CHARACTERS[c];
            if (kind == BASE64URL) {
                segment++;
            } else if (kind == DOT && segment > 0) {
                dots++;
                segment = 0;
            } else {
                return false;
            }
        }
        return dots == 2 && segment > 0;
    }

    private static final byte BASE64URL = 1;
    private static final byte DOT = 2;
    /** What each ASCII character is in a compact JWT: a base64url digit (RFC 4648 §5), the dot, or neither (0). */
    private static final byte[] JWT_CHARACTERS = new byte[128];

    static {
        for (char c = 'A'; c <= 'Z'; c++) {
            JWT_CHARACTERS[c] = BASE64URL;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            JWT_CHARACTERS[c] = BASE64URL;
        }
        for (char c = '0'; c <= '9'; c++) {
            JWT_CHARACTERS[c] = BASE64URL;
        }
        JWT_CHARACTERS['-'] = BASE64URL;
        JWT_CHARACTERS['_'] = BASE64URL;
        JWT_CHARACTERS['.'] = DOT;
    }
}
