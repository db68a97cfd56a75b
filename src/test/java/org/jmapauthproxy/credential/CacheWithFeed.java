package org.jmapauthproxy.credential;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;

import java.util.concurrent.TimeUnit;

import static org.jmapauthproxy.credential.CredentialStoreContract.await;
import static org.jmapauthproxy.credential.CredentialStoreContract.eventually;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The session cache and its invalidation feed built the way {@code Assembly} builds them, from the
 * options of the store's Redis client (here configured as Quarkus configures it for a topology),
 * for tests against real Redis topologies. Entries live an hour, so only the feed can make a change
 * seen.
 */
final class CacheWithFeed implements AutoCloseable {

    /** The revocation bound R. */
    static final long BOUND_NANOS = CachedCredentialStore.BOUND_NANOS;
    /**
     * What a loaded two-core machine may add to R between a change and the test's next look-up: the
     * scheduling of the feed's event loop and of the test's thread.
     */
    static final long SLACK_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

    final Vertx vertx = Vertx.vertx();
    final CachedCredentialStore cache;
    final RedisInvalidations feed;

    /** Starts the feed and waits until it gives the cache a lease. */
    CacheWithFeed(RedisOptions options) throws Exception {
        // The pool sizes of application.properties: many finds may be out at once.
        options.setMaxPoolSize(16).setMaxPoolWaiting(4096);
        Redis redis = Redis.createClient(vertx, options);
        RedisCredentialStore reads = new RedisCredentialStore(redis, options.getType() != RedisClientType.CLUSTER);
        cache = new CachedCredentialStore(reads, 10_000, 8 << 20, TimeUnit.HOURS.toNanos(1), System::nanoTime);
        feed = new RedisInvalidations(vertx, options, "", cache, new SessionChannels(vertx, reads, cache::leaseValid), redis);
        feed.start();
        eventually(cache::leaseValid, "the invalidation feed never gave the cache a lease");
    }

    StoredSession find(String key) throws Exception {
        return await(cache.find(key));
    }

    /** Finds {@code key} until the cache answers for it from memory; returns the user it holds. */
    String servedFromMemory(String key) throws Exception {
        String[] user = new String[1];
        eventually(() -> {
            long hits = cache.hits();
            StoredSession session = find(key);
            user[0] = session == null ? null : session.user();
            return session != null && cache.hits() > hits;
        }, "the cache never answered for " + key + " from memory");
        return user[0];
    }

    /** Applies {@code change} (a deletion of {@code key}) and fails unless a find answers null within R + slack. */
    void assertRefusedWithinTheBound(String key, CredentialStoreContract.Change change) throws Exception {
        long changed = System.nanoTime();
        change.apply(key);
        while (true) {
            long sent = System.nanoTime();
            if (find(key) == null) {
                return;
            }
            assertTrue(sent - changed < BOUND_NANOS + SLACK_NANOS,
                    key + " still found by a look-up sent " + (sent - changed) / 1_000_000 + " ms after its deletion");
        }
    }

    @Override
    public void close() throws Exception {
        feed.close();
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
}
