package org.jmapauthproxy.credential;

import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import org.jmapauthproxy.support.RedisCommands;
import org.jmapauthproxy.support.RedisTopologies;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.jmapauthproxy.credential.CredentialStoreContract.eventually;
import static org.jmapauthproxy.credential.CredentialStoreContract.session;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The invalidation feed with Redis Cluster: three masters (real processes on loopback, the slots
 * split evenly), the store reading through a Vert.x Cluster client configured as Quarkus configures
 * it for {@code quarkus.redis.client-type=cluster} (every node as a host).
 */
@Timeout(240)
class ClusterInvalidationsTest {

    RedisTopologies.Cluster cluster;
    CacheWithFeed feed;

    @BeforeEach
    void start() throws Exception {
        cluster = RedisTopologies.Cluster.start();
        RedisOptions options = new RedisOptions().setType(RedisClientType.CLUSTER);
        cluster.hosts().forEach(options::addConnectionString);
        feed = new CacheWithFeed(options);
    }

    @AfterEach
    void stop() throws Exception {
        feed.close();
        cluster.close();
    }

    void set(int node, String key, String user) throws Exception {
        assertEquals("+OK", RedisCommands.send(cluster.port(node), "SET", key, session(user)));
    }

    CredentialStoreContract.Change deleteOn(int node) {
        return key -> assertEquals(":1", RedisCommands.send(cluster.port(node), "DEL", key));
    }

    @Test
    void sessionsDeletedOnEachMasterAreRefusedWithinTheBound() throws Exception {
        List<String> keys = new ArrayList<>();
        for (int node = 0; node < 3; node++) {
            String key = cluster.keyOn(node, "session-");
            keys.add(key);
            set(node, key, "user-" + node);
            assertEquals("user-" + node, feed.servedFromMemory(key));
        }
        for (int node = 0; node < 3; node++) {
            feed.assertRefusedWithinTheBound(keys.get(node), deleteOn(node));
        }
    }

    /**
     * A session's slot moves from the first master to the third, the way a resharding moves it. The
     * cache is emptied (a session in a slot that did not move is no longer remembered), and the feed
     * goes on working: the moved session is served from memory again, and its deletion on its new
     * master is seen within R.
     */
    @Test
    void movingASessionsSlotEmptiesTheCacheAndTheFeedFollows() throws Exception {
        String moving = cluster.keyOn(0, "session-");
        String staying = cluster.keyOn(1, "session-");
        set(0, moving, "alice");
        set(1, staying, "bob");
        assertEquals("alice", feed.servedFromMemory(moving));
        assertEquals("bob", feed.servedFromMemory(staying));

        cluster.moveSlot(cluster.slot(moving), 0, 2);
        eventually(() -> feed.cache.size() == 0, "the cache still remembers sessions after the slot moved");

        assertEquals("alice", feed.servedFromMemory(moving));
        assertEquals("bob", feed.servedFromMemory(staying));
        feed.assertRefusedWithinTheBound(moving, deleteOn(2));
        feed.assertRefusedWithinTheBound(staying, deleteOn(1));
    }
}
