package org.jmapauthproxy.credential;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import org.junit.jupiter.api.AfterEach;

import java.util.concurrent.TimeUnit;

/**
 * The contract against the cache in front of Redis, with its invalidation feed running as
 * {@code Assembly} wires it. Entries live an hour, so only invalidations can make a change seen.
 */
class CachedCredentialStoreTest extends CredentialStoreContract {

    CachedCredentialStore cache;
    RedisInvalidations feed;

    @Override
    CredentialStore open(Vertx vertx, Redis redis, String uri) throws Exception {
        RedisCredentialStore reads = new RedisCredentialStore(redis, true);
        cache = new CachedCredentialStore(reads, 10_000, 8 << 20, TimeUnit.HOURS.toNanos(1), System::nanoTime);
        feed = new RedisInvalidations(vertx, new RedisOptions().setConnectionString(uri), "", cache,
                new SessionChannels(vertx, reads, cache::leaseValid), redis);
        feed.start();
        eventually(cache::leaseValid, "the invalidation feed never gave the cache a lease");
        return cache;
    }

    @AfterEach
    void stopTheFeed() {
        feed.close();
    }

    @Override
    boolean remembers() {
        return true;
    }

    @Override
    void found(String key) throws Exception {
        long hits = cache.hits();
        eventually(() -> await(cache.find(key)) != null && cache.hits() > hits, "the cache never answered from memory");
    }
}
