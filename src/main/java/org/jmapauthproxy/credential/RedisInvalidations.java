package org.jmapauthproxy.credential;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/**
 * The invalidation feed of {@link CachedCredentialStore}: one dedicated Redis connection using
 * server-assisted client-side caching (Redis 6+, {@code CLIENT TRACKING} in broadcast mode). Redis
 * then publishes, on {@code __redis__:invalidate}, every key under the session prefix that is
 * written, deleted or expires, and the proxy drops its copy within a round trip of the change.
 *
 * <p>The connection uses RESP2 and redirects the invalidations to itself before subscribing. It is
 * checked with a PING every few seconds; when it breaks or stalls, the cache is emptied and switched
 * off until the feed is back, so a lost feed costs speed, never correctness.
 */
public final class RedisInvalidations {

    private static final Logger LOG = Logger.getLogger(RedisInvalidations.class);
    static final String CHANNEL = "__redis__:invalidate";
    private static final long PING_MILLIS = 5_000;
    private static final long MAX_BACKOFF_MILLIS = 30_000;

    private final Vertx vertx;
    private final String connectionString;
    private final String password;
    private final String prefix;
    private final CachedCredentialStore cache;
    private Redis client;
    private RedisConnection connection;
    private long backoff = 500;
    private long pingTimer = -1;
    private volatile boolean closed;

    public RedisInvalidations(Vertx vertx, String connectionString, String password, String prefix,
                              CachedCredentialStore cache) {
        this.vertx = vertx;
        this.connectionString = connectionString;
        this.password = password;
        this.prefix = prefix;
        this.cache = cache;
    }

    public void start() {
        RedisOptions options = new RedisOptions().setConnectionString(connectionString)
                .setPreferredProtocolVersion(ProtocolVersion.RESP2)
                .setMaxPoolSize(1)
                .setMaxWaitingHandlers(16);
        if (password != null && !password.isEmpty()) {
            options.setPassword(password);
        }
        client = Redis.createClient(vertx, options);
        connect();
    }

    private void connect() {
        if (closed) {
            return;
        }
        client.connect().compose(conn -> {
            connection = conn;
            conn.handler(this::onMessage);
            conn.exceptionHandler(e -> lost("connection error: " + e.getMessage()));
            conn.endHandler(v -> lost("connection closed"));
            return conn.send(Request.cmd(Command.CLIENT).arg("ID"))
                    .compose(id -> {
                        Request tracking = Request.cmd(Command.CLIENT).arg("TRACKING").arg("ON")
                                .arg("REDIRECT").arg(id.toLong()).arg("BCAST");
                        if (!prefix.isEmpty()) {
                            tracking.arg("PREFIX").arg(prefix);
                        }
                        return conn.send(tracking);
                    })
                    .compose(ok -> conn.send(Request.cmd(Command.SUBSCRIBE).arg(CHANNEL)));
        }).onSuccess(v -> {
            backoff = 500;
            cache.feedConnected(true);
            LOG.info("session cache: Redis invalidation feed connected");
            pingTimer = vertx.setPeriodic(PING_MILLIS, id -> ping());
        }).onFailure(e -> {
            cache.feedConnected(false);
            LOG.warnf("session cache off: cannot subscribe to Redis invalidations (%s); retrying", e.getMessage());
            // A half-set-up connection must go, or the single-connection pool stays taken forever.
            RedisConnection half = connection;
            connection = null;
            if (half != null) {
                half.close();
            }
            retry();
        });
    }

    private void ping() {
        RedisConnection conn = connection;
        if (conn == null) {
            return;
        }
        boolean[] answered = {false};
        long deadline = vertx.setTimer(PING_MILLIS / 2, id -> {
            if (!answered[0]) {
                lost("no answer to PING");
            }
        });
        conn.send(Request.cmd(Command.PING)).onComplete(ar -> {
            answered[0] = true;
            vertx.cancelTimer(deadline);
            if (ar.failed()) {
                lost("PING failed: " + ar.cause().getMessage());
            }
        });
    }

    private void onMessage(Response message) {
        if (message.type() != ResponseType.MULTI && message.type() != ResponseType.PUSH || message.size() < 3
                || !"message".equals(message.get(0).toString()) || !CHANNEL.equals(message.get(1).toString())) {
            return;
        }
        Response keys = message.get(2);
        if (keys == null || keys.type() != ResponseType.MULTI) {
            // A null payload means the whole database was flushed.
            cache.invalidateAll();
            return;
        }
        List<String> invalidated = new ArrayList<>(keys.size());
        for (Response key : keys) {
            invalidated.add(key.toString());
        }
        cache.invalidate(invalidated);
    }

    private void lost(String why) {
        if (connection == null || closed) {
            return;
        }
        cache.feedConnected(false);
        LOG.warnf("session cache off: Redis invalidation feed lost (%s); reconnecting", why);
        vertx.cancelTimer(pingTimer);
        RedisConnection old = connection;
        connection = null;
        old.close();
        retry();
    }

    private void retry() {
        if (closed) {
            return;
        }
        long delay = backoff;
        backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
        vertx.setTimer(delay, id -> connect());
    }

    public void close() {
        closed = true;
        cache.feedConnected(false);
        if (client != null) {
            client.close();
        }
    }
}
