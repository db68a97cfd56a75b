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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URL;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The revocation bound R = 1 s under faults that send no invalidation: the feed stalled (Redis
 * frozen or partitioned while its connections look open), the keyspace swapped ({@code SWAPDB}),
 * Redis restarted empty. In every case a session deleted at time t is not served to a request sent
 * after t + R + {@link ProxyRequests#SLACK_NANOS}; the slack covers only the time between sending a
 * request and the proxy's decision on it, on a loaded machine. The proxy reaches Redis through a
 * relay the test can stall; the test changes Redis directly.
 */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "redis", value = "relayed"))
@Timeout(120)
class RevocationTest {

    static final long BOUND_NANOS = ProxyRequests.BOUND_NANOS;

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    ProxyRequests requests;

    @BeforeEach
    void requests() {
        requests = new ProxyRequests(base);
    }

    @AfterEach
    void resumeRelay() {
        RealServers.relay().resume();
    }

    @Test
    void deletedSessionIsNotServedPastTheBoundWhileTheFeedIsStalled() throws Exception {
        String sid = Sessions.newSid();
        String token = requests.servedSession(redis, sid);
        TcpRelay relay = RealServers.relay();
        relay.stall();
        long deleted = System.nanoTime();
        assertEquals(":1", RedisCommands.send(RealServers.redisPort(), "DEL", sid));
        // Redis is unreachable for the proxy now: requests are refused (503) or wait, never served.
        int last = requests.assertNotServedAfterBound(token, deleted, deleted + 3 * BOUND_NANOS);
        assertTrue(last == 503, "while Redis is unreachable: " + last);
        relay.resume();
        long resumed = System.nanoTime();
        while (requests.status(token) != 401) {
            assertTrue(System.nanoTime() - resumed < 10_000_000_000L, "deleted session still not refused");
        }
    }

    @Test
    void swappedDatabaseEmptiesTheCacheWithinTheBound() throws Exception {
        String sid = Sessions.newSid();
        String token = requests.servedSession(redis, sid);
        long swapped = System.nanoTime();
        assertEquals("+OK", RedisCommands.send(RealServers.redisPort(), "SWAPDB", "0", "1"));
        try {
            int last = requests.assertNotServedAfterBound(token, swapped, swapped + 2 * BOUND_NANOS);
            assertEquals(401, last);
        } finally {
            RedisCommands.send(RealServers.redisPort(), "SWAPDB", "0", "1");
        }
    }

    @Test
    void redisRestartedEmptyRevokesEverySessionWithinTheBound() throws Exception {
        String sid = Sessions.newSid();
        String token = requests.servedSession(redis, sid);
        long restarted = System.nanoTime();
        RealServers.restartRedisEmpty();
        int last = requests.assertNotServedAfterBound(token, restarted, restarted + 3 * BOUND_NANOS);
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (last != 401 && System.nanoTime() < deadline) {
            last = requests.status(token);
        }
        assertEquals(401, last, "the session is gone with Redis's data");
    }
}
