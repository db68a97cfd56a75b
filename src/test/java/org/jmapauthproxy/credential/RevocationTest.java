package org.jmapauthproxy.credential;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.RedisCommands;
import org.jmapauthproxy.support.Sessions;
import org.jmapauthproxy.support.TcpRelay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The revocation bound R = 1 s under faults that send no invalidation: the feed stalled (Redis
 * frozen or partitioned while its connections look open), the keyspace swapped ({@code SWAPDB}),
 * Redis restarted empty. In every case a session deleted at time t is not served to a request sent
 * after t + R + {@link #SLACK_NANOS}; the slack covers only the time between sending a request and
 * the proxy's decision on it, on a loaded machine. The proxy reaches Redis through a relay the test
 * can stall; the test changes Redis directly.
 */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "redis", value = "relayed"))
@Timeout(120)
class RevocationTest {

    static final long BOUND_NANOS = 1_000_000_000L;
    static final long SLACK_NANOS = 300_000_000L;

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @AfterEach
    void resumeRelay() {
        RealServers.relay().resume();
    }

    int status(String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + "echo")).header("Authorization", "Bearer " + token)
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** A session that the proxy has served (and so remembers). */
    String servedSession(String sid) throws Exception {
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

    @Test
    void deletedSessionIsNotServedPastTheBoundWhileTheFeedIsStalled() throws Exception {
        String sid = Sessions.newSid();
        String token = servedSession(sid);
        TcpRelay relay = RealServers.relay();
        relay.stall();
        long deleted = System.nanoTime();
        assertEquals(":1", RedisCommands.send(RealServers.redisPort(), "DEL", sid));
        // Redis is unreachable for the proxy now: requests are refused (503) or wait, never served.
        int last = assertNotServedAfterBound(token, deleted, deleted + 3 * BOUND_NANOS);
        assertTrue(last == 503, "while Redis is unreachable: " + last);
        relay.resume();
        long resumed = System.nanoTime();
        while (status(token) != 401) {
            assertTrue(System.nanoTime() - resumed < 10_000_000_000L, "deleted session still not refused");
        }
    }

    @Test
    void swappedDatabaseEmptiesTheCacheWithinTheBound() throws Exception {
        String sid = Sessions.newSid();
        String token = servedSession(sid);
        long swapped = System.nanoTime();
        assertEquals("+OK", RedisCommands.send(RealServers.redisPort(), "SWAPDB", "0", "1"));
        try {
            int last = assertNotServedAfterBound(token, swapped, swapped + 2 * BOUND_NANOS);
            assertEquals(401, last);
        } finally {
            RedisCommands.send(RealServers.redisPort(), "SWAPDB", "0", "1");
        }
    }

    @Test
    void redisRestartedEmptyRevokesEverySessionWithinTheBound() throws Exception {
        String sid = Sessions.newSid();
        String token = servedSession(sid);
        long restarted = System.nanoTime();
        RealServers.restartRedisEmpty();
        int last = assertNotServedAfterBound(token, restarted, restarted + 3 * BOUND_NANOS);
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (last != 401 && System.nanoTime() < deadline) {
            last = status(token);
        }
        assertEquals(401, last, "the session is gone with Redis's data");
    }
}
