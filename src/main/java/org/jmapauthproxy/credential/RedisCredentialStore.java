package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

/**
 * Sessions in Redis, one {@code GET} per request through the Quarkus-managed Vert.x Redis client
 * (standalone, Sentinel or Cluster, as {@code quarkus.redis.*} configures it).
 */
public final class RedisCredentialStore implements CredentialStore {

    private final Redis redis;

    public RedisCredentialStore(Redis redis) {
        this.redis = redis;
    }

    @Override
    public Future<StoredSession> find(String key) {
        return redis.send(Request.cmd(Command.GET).arg(key)).map(RedisCredentialStore::session);
    }

    @Override
    public Future<Void> ping() {
        return redis.send(Request.cmd(Command.PING)).mapEmpty();
    }

    private static StoredSession session(Response response) {
        return response == null ? null : StoredSession.parse(response.toBuffer());
    }
}
