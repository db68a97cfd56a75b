package org.jmapauthproxy;

import io.quarkus.redis.client.RedisOptionsCustomizer;
import io.vertx.redis.client.RedisOptions;
import jakarta.inject.Singleton;

import java.util.Optional;

/**
 * The options Quarkus created the default Redis client with, as they were when it created it: the
 * hosts, client type, master name, role, password (and a user given in the hosts' URIs) and the
 * network options with TLS already resolved ({@code quarkus.redis.tls-configuration-name} through
 * the TLS registry, or the older {@code quarkus.redis.tls.*}). The invalidation feed is built from
 * them, so that it reaches the servers the store reads, the way the store reaches them.
 *
 * <p>{@link RedisOptionsCustomizer} is Quarkus's public hook for this: it is called for each client,
 * after Quarkus has set every option and before the client is created, when the Redis extension
 * starts (before any start-up observer, {@link Lifecycle}'s included). This one changes nothing.
 */
@Singleton
class RedisClientOptions implements RedisOptionsCustomizer {

    /** The name Quarkus gives the default client (the one {@code quarkus.redis.*} configures). */
    static final String DEFAULT_CLIENT = "<default>";

    private volatile RedisOptions options;

    @Override
    public void customize(String clientName, RedisOptions options) {
        if (DEFAULT_CLIENT.equals(clientName)) {
            // Kept, not copied: the client is created from this very object, after every customizer
            // (another one may come after this); the feed takes its copy when it is built.
            this.options = options;
        }
    }

    /** The default client's options, once Quarkus has created it. */
    Optional<RedisOptions> options() {
        return Optional.ofNullable(options);
    }
}
