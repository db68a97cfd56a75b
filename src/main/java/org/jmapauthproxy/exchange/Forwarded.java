package org.jmapauthproxy.exchange;

/**
 * What the client's hop looked like, for the {@code X-Forwarded-*} headers the origin gets.
 *
 * @param forwardedFor the client address chain, the client's own address last
 * @param proto        the scheme the client used (or the trusted front proxy says it used)
 * @param host         the authority the client addressed
 * @param trusted      whether the client is a trusted front proxy whose own forwarding headers may pass
 */
public record Forwarded(String forwardedFor, String proto, String host, boolean trusted) {
}
