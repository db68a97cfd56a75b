package org.jmapauthproxy.credential;

import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import org.jmapauthproxy.support.RedisCommands;
import org.jmapauthproxy.support.TcpRelay;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.jmapauthproxy.credential.CredentialStoreContract.await;
import static org.jmapauthproxy.credential.CredentialStoreContract.eventually;
import static org.jmapauthproxy.credential.CredentialStoreContract.session;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The invalidation feed against a real redis-server that it reaches through a relay the test stalls;
 * the store reads Redis directly.
 */
@Timeout(120)
class RedisInvalidationsTest extends WithRedisServer {

    TcpRelay relay;
    CachedCredentialStore cache;
    RedisInvalidations feed;

    @BeforeEach
    void start() throws Exception {
        relay = new TcpRelay("127.0.0.1", port);
        Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString("redis://127.0.0.1:" + port));
        RedisCredentialStore reads = new RedisCredentialStore(redis, true);
        cache = new CachedCredentialStore(reads, 1_000, 1 << 20, TimeUnit.HOURS.toNanos(1), System::nanoTime);
        feed = new RedisInvalidations(vertx, new RedisOptions().setConnectionString("redis://127.0.0.1:" + relay.port()), "", cache,
                new SessionChannels(vertx, reads, cache::leaseValid), redis);
        feed.start();
        eventually(cache::leaseValid, "the feed never gave the cache a lease");
    }

    @AfterEach
    void stop() throws Exception {
        feed.close();
        relay.close();
    }

    /**
     * Failed with the feed's former PING heartbeat (3 of 3 runs): in RESP2 an invalidation is an
     * ordinary array, and the Vert.x connection hands a non-push reply to the oldest command waiting
     * for one, so the invalidation was taken for the PING's answer, the key never dropped, and the
     * next heartbeat renewed the lease over the stale entry. The heartbeat now leaves no command
     * waiting on the feed.
     */
    @Test
    void invalidationArrivingWhileAHeartbeatIsOutIsNotLost() throws Exception {
        String key = "session-" + UUID.randomUUID();
        assertEquals("+OK", RedisCommands.send(port, "SET", key, session("alice")));
        long hits = cache.hits();
        eventually(() -> await(cache.find(key)) != null && cache.hits() > hits, "never served from memory");

        relay.stall();
        assertEquals(":1", RedisCommands.send(port, "DEL", key));
        // The lease runs out only while a heartbeat is unanswered: one is out now, sent after the
        // DEL reached Redis, and the DEL's invalidation is held in the relay ahead of its answer.
        eventually(() -> !cache.leaseValid(), "the lease outlived a stalled feed");
        relay.resume();

        eventually(cache::leaseValid, "the feed never recovered");
        assertNull(await(cache.find(key)), "the deleted session is served from memory again");
    }
}
