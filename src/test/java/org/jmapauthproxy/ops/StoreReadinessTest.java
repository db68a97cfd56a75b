package org.jmapauthproxy.ops;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.jmapauthproxy.credential.RedisCredentialStore;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.TcpRelay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.embedded.RedisServer;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Readiness of the session store against a real redis-server behind a relay the test stalls: one
 * slow answer is tolerated, a second in a row takes the proxy out, the first answer brings it back.
 */
class StoreReadinessTest {

    static final Duration TIMEOUT = Duration.ofSeconds(2);

    RedisServer server;
    TcpRelay relay;
    Vertx vertx;
    Redis client;

    @BeforeEach
    void setUp() throws Exception {
        int port = RealServers.freePort();
        server = RealServers.redisServer(port);
        server.start();
        relay = new TcpRelay("127.0.0.1", port);
        vertx = Vertx.vertx();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.close();
        }
        vertx.close().toCompletionStage().toCompletableFuture().get();
        relay.close();
        server.stop();
    }

    StoreReadiness readinessThrough(int port) {
        client = Redis.createClient(vertx, new RedisOptions().setConnectionString("redis://127.0.0.1:" + port));
        return new StoreReadiness(new RedisCredentialStore(client, true), TIMEOUT, "127.0.0.1:" + port, System::nanoTime);
    }

    static HealthCheckResponse check(StoreReadiness readiness) {
        return readiness.call().await().atMost(Duration.ofSeconds(30));
    }

    static Map<String, Object> data(HealthCheckResponse response) {
        return response.getData().orElseThrow();
    }

    @Test
    void oneStalledCheckKeepsReadinessUpTwoInARowTakeItDownAndAnAnswerBringsItBack() {
        StoreReadiness readiness = readinessThrough(relay.port());
        HealthCheckResponse healthy = check(readiness);
        assertEquals(HealthCheckResponse.Status.UP, healthy.getStatus());
        assertEquals("127.0.0.1:" + relay.port(), data(healthy).get("address"));

        relay.stall();
        HealthCheckResponse once = check(readiness);
        assertEquals(HealthCheckResponse.Status.UP, once.getStatus(), "one missed PING must not flap readiness: " + data(once));
        assertEquals(1L, ((Number) data(once).get("failed-checks-in-a-row")).longValue());
        String expected = "no answer from 127.0.0.1:" + relay.port() + " within 2000 ms";
        assertEquals(expected, data(once).get("last-check"));

        HealthCheckResponse twice = check(readiness);
        assertEquals(HealthCheckResponse.Status.DOWN, twice.getStatus());
        assertEquals(expected, data(twice).get("error"));

        relay.resume();
        HealthCheckResponse back = check(readiness);
        assertEquals(HealthCheckResponse.Status.UP, back.getStatus(), "the first answer brings readiness back: " + data(back));

        relay.stall();
        assertEquals(HealthCheckResponse.Status.UP, check(readiness).getStatus(),
                "a success resets the count of failed checks");
        relay.resume();
    }

    @Test
    void storeThatNeverAnsweredIsDownAtOnceNamingTheAddressRefused() throws Exception {
        int closed = RealServers.freePort();
        StoreReadiness readiness = readinessThrough(closed);
        HealthCheckResponse response = check(readiness);
        assertEquals(HealthCheckResponse.Status.DOWN, response.getStatus());
        assertEquals("connection refused by 127.0.0.1:" + closed, data(response).get("error"));
    }

    @Test
    void addressComesFromTheFirstHostWithoutItsPassword() {
        assertEquals("redis.internal:6380", StoreReadiness.address("redis://user:s3cret@redis.internal:6380/0, redis://b:1"));
        assertEquals("10.0.0.5:6379", StoreReadiness.address("rediss://:pw@10.0.0.5"));
        assertTrue(!StoreReadiness.address("redis://:s3cret@h:1").contains("s3cret"));
    }
}
