package org.jmapauthproxy.credential;

/**
 * What the proxy presents to the origin for one user: the {@code Authorization} header value
 * ({@code Basic ...} or a minted {@code Bearer ...}). The value is a secret: it never appears in
 * {@link #toString()} or a log line.
 *
 * @param username      the origin user name (logged only when user logging is enabled)
 * @param authorization the {@code Authorization} header value for the origin
 */
public record OriginCredential(String username, String authorization) {

    @Override
    public String toString() {
        return "OriginCredential[username=" + username + ", authorization=redacted]";
    }
}
