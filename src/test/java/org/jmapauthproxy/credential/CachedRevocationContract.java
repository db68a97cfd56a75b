package org.jmapauthproxy.credential;

import io.quarkus.redis.datasource.RedisDataSource;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.RedisCommands;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URL;

import static org.jmapauthproxy.credential.CredentialStoreContract.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * The proxy keeps its session cache on with the Redis settings of a subclass's {@link RealServers}
 * variant (the feed is built from the same Quarkus configuration as the store's client), serves a
 * session from memory, and refuses it within R + slack once it is deleted in Redis.
 */
@Timeout(120)
abstract class CachedRevocationContract {

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @Inject
    CredentialStore store;

    @Test
    void sessionIsServedFromMemoryAndRefusedWithinTheBoundOnceDeleted() throws Exception {
        CachedCredentialStore cache = assertInstanceOf(CachedCredentialStore.class, store, "the session cache is off");
        eventually(cache::leaseValid, "the invalidation feed never gave the cache a lease");
        ProxyRequests requests = new ProxyRequests(base);
        String sid = Sessions.newSid();
        String token = requests.servedSession(redis, sid);
        long hits = cache.hits();
        eventually(() -> requests.status(token) == 200 && cache.hits() > hits, "the session was never served from memory");

        long deleted = System.nanoTime();
        assertEquals(":1", RedisCommands.send(RealServers.redisPort(), "DEL", sid));
        assertEquals(401, requests.assertNotServedAfterBound(token, deleted, deleted + 2 * ProxyRequests.BOUND_NANOS));
    }
}
