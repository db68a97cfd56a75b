package org.jmapauthproxy.credential;

import io.vertx.core.Future;
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

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The invalidation feed of {@link CachedCredentialStore}: one dedicated Redis connection using
 * server-assisted client-side caching (Redis 6+, {@code CLIENT TRACKING} in broadcast mode). Redis
 * then publishes, on {@code __redis__:invalidate}, every key under the session prefix that is
 * written, deleted or expires, and the proxy drops its copy within a round trip of the change.
 *
 * <p>The connection uses RESP2 and redirects the invalidations to itself before subscribing; after
 * that it never sends a command. Every heartbeat ({@link CachedCredentialStore#HEARTBEAT_NANOS}) it
 * proves two things, and only then renews the cache's lease: the feed still delivers (a nonce
 * published through the store's client on this instance's own channel, to which the feed is also
 * subscribed, comes back on it: Redis writes to a connection in order, so every invalidation of a
 * change applied before the publication has arrived first), and the keyspace is still the one the cache remembers (a marker key this instance
 * wrote, read through the store's own client, still holds its value: {@code SWAPDB}, {@code SELECT}ed
 * databases swapped under the proxy, a restart with an empty or older data set or a failover to a
 * replica that missed writes all lose or change it, and none of them sends invalidations). When a
 * heartbeat goes unanswered the lease simply runs out; after a few seconds without any answer the
 * connection is dropped, the cache emptied and the feed set up again.
 *
 * <p>No command is left waiting on the subscribed connection on purpose: in RESP2 an invalidation is
 * an ordinary array, and the Vert.x connection (4.5) hands any non-push reply to the oldest command
 * waiting for one, so an invalidation arriving while a PING was out would be taken for its answer
 * and lost ({@code RedisInvalidationsTest}).
 */
public final class RedisInvalidations {

    private static final Logger LOG = Logger.getLogger(RedisInvalidations.class);
    static final String CHANNEL = "__redis__:invalidate";
    private static final long HEARTBEAT_MILLIS = CachedCredentialStore.HEARTBEAT_NANOS / 1_000_000;
    /** No answer at all for this long: the connection is taken for lost and set up again. */
    private static final long SILENCE_MILLIS = 3_000;
    private static final long MAX_BACKOFF_MILLIS = 30_000;
    /** The marker lives a day and is written again every hour, so dead instances leave nothing behind. */
    private static final long MARKER_TTL_SECONDS = 86_400;
    private static final long MARKER_REWRITE_NANOS = 3_600_000_000_000L;

    private final Vertx vertx;
    private final String connectionString;
    private final String password;
    private final String prefix;
    private final CachedCredentialStore cache;
    private final SessionChannels channels;
    private final Redis store;
    private final String markerKey;
    private final String heartbeatChannel;
    private Redis client;
    private RedisConnection connection;
    private long backoff = 500;
    private long heartbeatTimer = -1;
    private Round round;
    private long rounds;
    private long lastAnswer;
    private String markerValue;
    private long markerWrittenAt;
    private volatile boolean closed;

    /**
     * @param store the store's own client, through which the marker key is written and read (the
     *              same Redis, database and credentials the sessions are read with)
     */
    public RedisInvalidations(Vertx vertx, String connectionString, String password, String prefix,
                              CachedCredentialStore cache, SessionChannels channels, Redis store) {
        this.channels = channels;
        this.vertx = vertx;
        this.connectionString = connectionString;
        this.password = password;
        this.prefix = prefix;
        this.cache = cache;
        this.store = store;
        String instance = randomToken();
        this.markerKey = prefix + "jmap-auth-proxy:keyspace-marker:" + instance;
        this.heartbeatChannel = "jmap-auth-proxy:heartbeat:" + instance;
    }

    /**
     * One heartbeat: renews the lease from {@code sent} once its nonce came back on the feed and the
     * marker was found unchanged. Touched on the feed's event loop only.
     */
    private static final class Round {
        final long sent;
        final String nonce;
        boolean echoed;
        boolean markerOk;

        Round(long sent, String nonce) {
            this.sent = sent;
            this.nonce = nonce;
        }
    }

    private static String randomToken() {
        byte[] bytes = new byte[12];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
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
            conn.exceptionHandler(e -> lost("connection error: " + e.getMessage(), true));
            // An ended connection is not closed again (Vert.x asserts against that).
            conn.endHandler(v -> lost("connection closed", false));
            return conn.send(Request.cmd(Command.CLIENT).arg("ID"))
                    .compose(id -> {
                        Request tracking = Request.cmd(Command.CLIENT).arg("TRACKING").arg("ON")
                                .arg("REDIRECT").arg(id.toLong()).arg("BCAST");
                        if (!prefix.isEmpty()) {
                            tracking.arg("PREFIX").arg(prefix);
                        }
                        return conn.send(tracking);
                    })
                    .compose(ok -> conn.send(Request.cmd(Command.SUBSCRIBE).arg(CHANNEL)))
                    .compose(ok -> conn.send(Request.cmd(Command.SUBSCRIBE).arg(heartbeatChannel)))
                    .compose(ok -> writeMarker());
        }).onSuccess(v -> {
            backoff = 500;
            cache.feedConnected(true);
            LOG.info("session cache: Redis invalidation feed connected");
            lastAnswer = System.nanoTime();
            round = null;
            heartbeatTimer = vertx.setPeriodic(HEARTBEAT_MILLIS, id -> heartbeat());
            heartbeat();
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

    /** A new marker value, written before the cache may serve anything it remembers from now on. */
    private Future<Void> writeMarker() {
        String value = randomToken();
        return store.send(Request.cmd(Command.SET).arg(markerKey).arg(value).arg("EX").arg(MARKER_TTL_SECONDS))
                .map(ok -> {
                    markerValue = value;
                    markerWrittenAt = System.nanoTime();
                    return null;
                });
    }

    private void heartbeat() {
        RedisConnection conn = connection;
        if (conn == null || closed) {
            return;
        }
        if (System.nanoTime() - lastAnswer > SILENCE_MILLIS * 1_000_000) {
            lost("no answer for " + SILENCE_MILLIS + " ms", true);
            return;
        }
        if (round != null && !(round.echoed && round.markerOk)) {
            // The last round is still out (Redis slow or unreachable): the lease runs out meanwhile.
            return;
        }
        Round current = new Round(cache.now(), Long.toString(++rounds));
        round = current;
        String expected = markerValue;
        store.send(Request.cmd(Command.GET).arg(markerKey)).onSuccess(value -> {
            if (round != current || conn != connection) {
                return;
            }
            if (value == null || !value.toString().equals(expected)) {
                // The keyspace changed under the proxy without invalidations (SWAPDB, a restart or
                // failover to older data): nothing remembered can be trusted.
                LOG.warn("session cache emptied: the Redis keyspace changed without invalidations "
                        + "(SWAPDB, restart or failover)");
                cache.invalidateAll();
                channels.changedAll();
                writeMarker();
                round = null;
                return;
            }
            current.markerOk = true;
            renewWhenProved(current);
        });
        store.send(Request.cmd(Command.PUBLISH).arg(heartbeatChannel).arg(current.nonce));
    }

    /** The nonce came back on the feed: every invalidation published before it has been applied. */
    private void echoed(String nonce) {
        Round current = round;
        if (current == null || !current.nonce.equals(nonce)) {
            return;
        }
        lastAnswer = System.nanoTime();
        current.echoed = true;
        renewWhenProved(current);
    }

    private void renewWhenProved(Round current) {
        if (current.echoed && current.markerOk) {
            cache.renewLease(current.sent);
            if (System.nanoTime() - markerWrittenAt > MARKER_REWRITE_NANOS) {
                writeMarker();
            }
        }
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
                echoed(nonce.toString());
            }
            return;
        }
        if (!CHANNEL.equals(channel)) {
            return;
        }
        Response keys = message.get(2);
        if (keys == null || keys.type() != ResponseType.MULTI) {
            // A null payload means the whole database was flushed.
            cache.invalidateAll();
            channels.changedAll();
            return;
        }
        List<String> invalidated = new ArrayList<>(keys.size());
        for (Response key : keys) {
            invalidated.add(key.toString());
        }
        cache.invalidate(invalidated);
        channels.changed(invalidated);
    }

    private void lost(String why, boolean close) {
        if (connection == null || closed) {
            return;
        }
        cache.feedConnected(false);
        LOG.warnf("session cache off: Redis invalidation feed lost (%s); reconnecting", why);
        vertx.cancelTimer(heartbeatTimer);
        RedisConnection old = connection;
        connection = null;
        if (close) {
            old.close();
        }
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
