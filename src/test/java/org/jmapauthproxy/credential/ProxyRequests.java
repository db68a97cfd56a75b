package org.jmapauthproxy.credential;

import io.quarkus.redis.datasource.RedisDataSource;
import org.jmapauthproxy.support.Sessions;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests through the proxy that measure how long a changed session is still served, against the
 * revocation bound R = 1 s. {@link #SLACK_NANOS} covers only the time between sending a request and
 * the proxy's decision on it, on a loaded machine.
 */
final class ProxyRequests {

    static final long BOUND_NANOS = 1_000_000_000L;
    static final long SLACK_NANOS = 300_000_000L;

    private final URL base;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    ProxyRequests(URL base) {
        this.base = base;
    }

    int status(String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "echo")).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** A session that the proxy has served (and so remembers, when its cache is on). */
    String servedSession(RedisDataSource redis, String sid) throws Exception {
        String token = new Sessions(redis).create(sid, "alice:pw");
        for (int i = 0; i < 3; i++) {
            assertEquals(200, status(token));
        }
        return token;
    }

    /**
     * Sends requests until {@code untilNanos}; fails if one sent more than R (+ slack) after
     * {@code changedAt} was served 200. Returns the last status.
     */
    int assertNotServedAfterBound(String token, long changedAt, long untilNanos) throws Exception {
        int last = -1;
        while (System.nanoTime() < untilNanos) {
            long sent = System.nanoTime();
            last = status(token);
            if (last == 200) {
                long late = sent - changedAt;
                assertTrue(late < BOUND_NANOS + SLACK_NANOS,
                        "revoked session served to a request sent " + late / 1_000_000 + " ms after the change");
            }
        }
        return last;
    }
}
