package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.List;

/**
 * Sessions in Redis, one read per request through the Quarkus-managed Vert.x Redis client
 * (standalone, Sentinel or Cluster, as {@code quarkus.redis.*} configures it).
 */
public final class RedisCredentialStore implements CredentialStore {

    private final Redis redis;
    private final boolean batched;

    /** @param batched whether several reads may go as one batch (not on Redis Cluster) */
    public RedisCredentialStore(Redis redis, boolean batched) {
        this.redis = redis;
        this.batched = batched;
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

    /**
     * Several sessions in one round trip (a pipelined batch of the same bounded reads); in the order
     * of {@code keys}, {@code null} for a missing one. Used to re-check open channels.
     */
    public Future<List<StoredSession>> findAll(List<String> keys) {
        List<Request> reads = new ArrayList<>(keys.size());
        for (String key : keys) {
            reads.add(Request.cmd(Command.GETRANGE).arg(key).arg(0).arg(StoredSession.MAX_BYTES));
        }
        if (!batched) {
            // Redis Cluster takes a batch only within one hash slot: send the reads side by side.
            List<Future<Response>> each = new ArrayList<>(reads.size());
            reads.forEach(read -> each.add(redis.send(read)));
            return Future.all(each).map(all -> {
                List<StoredSession> sessions = new ArrayList<>(each.size());
                each.forEach(f -> sessions.add(session(f.result())));
                return sessions;
            });
        }
        return redis.batch(reads).map(responses -> {
            List<StoredSession> sessions = new ArrayList<>(responses.size());
            responses.forEach(response -> sessions.add(session(response)));
            return sessions;
        });
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
