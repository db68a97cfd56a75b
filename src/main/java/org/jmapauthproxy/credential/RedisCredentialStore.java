package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

/**
 * Sessions in Redis, one read per request through the Quarkus-managed Vert.x Redis client
 * (standalone, Sentinel or Cluster, as {@code quarkus.redis.*} configures it).
 */
public final class RedisCredentialStore implements CredentialStore {

    private final Redis redis;

    public RedisCredentialStore(Redis redis) {
        this.redis = redis;
    }

    /**
     * {@code GETRANGE 0 MAX_BYTES} rather than {@code GET}: at most one byte more than a session may
     * have crosses the network and the heap, however large the stored value is (an oversized value
     * is then refused unread). A missing key reads as the empty string, which no session is either.
     */
    @Override
    public Future<StoredSession> find(String key) {
        return redis.send(Request.cmd(Command.GETRANGE).arg(key).arg(0).arg(StoredSession.MAX_BYTES))
                .map(RedisCredentialStore::session);
    }

    @Override
    public Future<Void> ping() {
        return redis.send(Request.cmd(Command.PING)).mapEmpty();
    }

    private static StoredSession session(Response response) {
        if (response == null) {
            return null;
        }
        Buffer value = response.toBuffer();
        return value.length() == 0 ? null : StoredSession.parse(value);
    }
}
