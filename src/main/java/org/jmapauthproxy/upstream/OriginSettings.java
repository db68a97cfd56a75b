package org.jmapauthproxy.upstream;

import java.time.Duration;
import java.util.Optional;

/**
 * What the upstream step needs to know about the origin ({@code authproxy.origin.*}), handed over by
 * whoever assembles it.
 *
 * @param url               the origin's absolute http(s) URL, path prefix included
 * @param maxConnections    ordinary requests in flight, over all event loops
 * @param maxEventStreams   event streams and WebSockets open at once
 * @param maxWaitQueue      requests waiting for a pooled connection, over all event loops
 * @param trustCertificates PEM file of the CAs an https origin's certificate may chain to
 */
public record OriginSettings(String url, Duration connectTimeout, Duration idleTimeout, int maxConnections,
                             int maxEventStreams, int maxWaitQueue, Optional<String> trustCertificates,
                             boolean verifyHost) {
}
