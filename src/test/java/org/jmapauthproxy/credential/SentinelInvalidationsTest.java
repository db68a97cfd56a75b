package org.jmapauthproxy.credential;

import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import org.jmapauthproxy.support.RedisCommands;
import org.jmapauthproxy.support.RedisTopologies;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.jmapauthproxy.credential.CredentialStoreContract.session;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The invalidation feed with Redis Sentinel: a master, a replica and a Sentinel (real processes on
 * loopback), the store reading through a Vert.x Sentinel client configured as Quarkus configures it
 * for {@code quarkus.redis.client-type=sentinel} (the Sentinel as the host, the master's name, role
 * master, the 1 s topology cache).
 */
@Timeout(240)
class SentinelInvalidationsTest {

    /** The store's client asks the Sentinels again this long after it last did (Quarkus's default). */
    static final long TOPOLOGY_CACHE_NANOS = TimeUnit.SECONDS.toNanos(1);

    RedisTopologies.Sentinel sentinel;
    CacheWithFeed feed;

    @BeforeEach
    void start() throws Exception {
        sentinel = RedisTopologies.Sentinel.start(true);
        feed = new CacheWithFeed(new RedisOptions().setType(RedisClientType.SENTINEL)
                .addConnectionString("redis://127.0.0.1:" + sentinel.sentinelPort())
                .setMasterName(RedisTopologies.Sentinel.MASTER).setRole(RedisRole.MASTER)
                .setTopologyCacheTTL(TOPOLOGY_CACHE_NANOS / 1_000_000));
    }

    @AfterEach
    void stop() throws Exception {
        feed.close();
        sentinel.close();
    }

    static String newKey() {
        return "session-" + UUID.randomUUID();
    }

    @Test
    void sessionDeletedOnTheMasterIsRefusedWithinTheBound() throws Exception {
        int master = sentinel.masterPort();
        String key = newKey();
        assertEquals("+OK", RedisCommands.send(master, "SET", key, session("alice")));
        assertEquals("alice", feed.servedFromMemory(key));
        feed.assertRefusedWithinTheBound(key, k -> assertEquals(":1", RedisCommands.send(master, "DEL", k)));
    }

    /**
     * The replica is made to hold another value than the master without any invalidation reaching
     * the feed (written on the replica itself: what a failover to a replica that missed writes looks
     * like). After the failover that value is read, at the latest once the store's client has asked
     * the Sentinel again and R has passed: the cache was emptied. Then the feed works on the new
     * master: a value is served from memory again, and its deletion there is seen within R.
     */
    @Test
    void failoverEmptiesTheCacheAndTheFeedFollowsTheNewMaster() throws Exception {
        int oldMaster = sentinel.masterPort();
        int replica = sentinel.replicaPort();
        String key = newKey();
        assertEquals("+OK", RedisCommands.send(oldMaster, "SET", key, session("alice")));
        assertEquals("alice", feed.servedFromMemory(key));
        RedisTopologies.await(() -> RedisCommands.call(replica, "GET", key) != null,
                TimeUnit.SECONDS.toNanos(30), "the replica never received the session");
        assertEquals("+OK", RedisCommands.send(replica, "CONFIG", "SET", "replica-read-only", "no"));
        assertEquals("+OK", RedisCommands.send(replica, "SET", key, session("bob")));
        assertEquals("alice", feed.servedFromMemory(key), "the write on the replica reached the feed");

        sentinel.failover();
        long switched = System.nanoTime();
        long deadline = switched + TOPOLOGY_CACHE_NANOS + CacheWithFeed.BOUND_NANOS + CacheWithFeed.SLACK_NANOS;
        while (true) {
            long sent = System.nanoTime();
            StoredSession now = feed.find(key);
            if (now != null && "bob".equals(now.user())) {
                break;
            }
            assertTrue(sent - deadline < 0, "the old master's value still served "
                    + (sent - switched) / 1_000_000 + " ms after the Sentinel named the new master");
        }

        assertEquals("bob", feed.servedFromMemory(key), "the cache never served from memory on the new master");
        feed.assertRefusedWithinTheBound(key, k -> assertEquals(":1", RedisCommands.send(replica, "DEL", k)));
    }
}
