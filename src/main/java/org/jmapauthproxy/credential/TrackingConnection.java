package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;

import java.util.ArrayList;
import java.util.List;

/**
 * One connection of the invalidation feed, to one master: server-assisted client-side caching in
 * broadcast mode ({@code CLIENT TRACKING ON BCAST}, Redis 6+) redirected to the connection itself,
 * which is subscribed to the invalidations ({@code __redis__:invalidate}) and to the instance's
 * heartbeat channel. Redis then publishes every key under the session prefix that is written,
 * deleted or expires on this master.
 *
 * <p>After subscribing it never sends a command, on purpose: in RESP2 an invalidation is an ordinary
 * array, and the Vert.x connection (4.5) hands any non-push reply to the oldest command waiting for
 * one, so an invalidation arriving while a PING was out would be taken for its answer and lost
 * ({@code RedisInvalidationsTest}).
 */
final class TrackingConnection {

    static final String CHANNEL = "__redis__:invalidate";

    /** What the connection reports, on the feed's context. */
    interface Listener {

        /** These keys changed on the master; {@code null}: everything did (a flush). */
        void invalidated(List<String> keys);

        /** A heartbeat nonce came back on this connection. */
        void echoed(TrackingConnection from, String nonce);

        /** The connection failed or was closed by the server. */
        void lost(TrackingConnection from, String why);
    }

    private final Redis client;
    private final String address;
    private final String prefix;
    private final String heartbeatChannel;
    private final boolean masterOnly;
    private final Listener listener;

    /**
     * @param address    the master's {@code host:port}, for log lines
     * @param masterOnly whether to refuse a server that is not (or no longer) a master
     */
    TrackingConnection(Vertx vertx, RedisOptions options, String address, String prefix, String heartbeatChannel,
                       boolean masterOnly, Listener listener) {
        this.client = Redis.createClient(vertx, options);
        this.address = address;
        this.prefix = prefix;
        this.heartbeatChannel = heartbeatChannel;
        this.masterOnly = masterOnly;
        this.listener = listener;
    }

    String address() {
        return address;
    }

    /** Connects, turns tracking on and subscribes; the future fails if any step does. */
    Future<Void> open() {
        return client.connect().compose(conn -> {
            conn.handler(this::onMessage);
            conn.exceptionHandler(e -> listener.lost(this, "connection error: " + e.getMessage()));
            conn.endHandler(v -> listener.lost(this, "connection closed"));
            Future<Void> master = masterOnly ? conn.send(Request.cmd(Command.ROLE)).compose(role ->
                    role != null && "master".equals(role.get(0).toString()) ? Future.<Void>succeededFuture()
                            : Future.<Void>failedFuture(address + " is not a master (a failover under way)"))
                    : Future.succeededFuture();
            return master.compose(ok -> conn.send(Request.cmd(Command.CLIENT).arg("ID")))
                    .compose(id -> conn.send(tracking(id.toLong())))
                    .compose(ok -> conn.send(Request.cmd(Command.SUBSCRIBE).arg(CHANNEL)))
                    .compose(ok -> conn.send(Request.cmd(Command.SUBSCRIBE).arg(heartbeatChannel)))
                    .<Void>mapEmpty();
        });
    }

    private Request tracking(long clientId) {
        Request tracking = Request.cmd(Command.CLIENT).arg("TRACKING").arg("ON")
                .arg("REDIRECT").arg(clientId).arg("BCAST");
        if (!prefix.isEmpty()) {
            tracking.arg("PREFIX").arg(prefix);
        }
        return tracking;
    }

    private void onMessage(Response message) {
        if (message.type() != ResponseType.MULTI && message.type() != ResponseType.PUSH || message.size() < 3
                || !"message".equals(message.get(0).toString())) {
            return;
        }
        String channel = message.get(1).toString();
        if (heartbeatChannel.equals(channel)) {
            Response nonce = message.get(2);
            if (nonce != null) {
                listener.echoed(this, nonce.toString());
            }
            return;
        }
        if (!CHANNEL.equals(channel)) {
            return;
        }
        Response keys = message.get(2);
        if (keys == null || keys.type() != ResponseType.MULTI) {
            // A null payload means the whole database was flushed.
            listener.invalidated(null);
            return;
        }
        List<String> invalidated = new ArrayList<>(keys.size());
        for (Response key : keys) {
            invalidated.add(key.toString());
        }
        listener.invalidated(invalidated);
    }

    /** Closes the connection (a closed or failed one too: the client's pool knows). */
    void close() {
        client.close();
    }
}
