package org.jmapauthproxy.token;

/**
 * What a verified session token says: the session id that names the sealed credentials in the store,
 * the subject (for logs only, when enabled) and the expiry.
 *
 * @param sessionId the session id claim, never empty
 * @param subject   the {@code sub} claim, or {@code null}
 * @param expiresAt {@code exp}, seconds since the epoch
 */
public record SessionToken(String sessionId, String subject, long expiresAt) {

    public SessionToken {
        if (sessionId == null || sessionId.isEmpty()) {
            throw new IllegalArgumentException("empty session id");
        }
    }
}
