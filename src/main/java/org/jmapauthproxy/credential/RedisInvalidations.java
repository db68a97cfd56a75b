package org.jmapauthproxy.credential;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import org.jboss.logging.Logger;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The invalidation feed of {@link CachedCredentialStore}, in every topology the store's client
 * supports: one {@link TrackingConnection} per master ({@link RedisMasters}: the standalone server,
 * the master the Sentinels name, every master of a Cluster), built with the store's own settings.
 *
 * <p>Every heartbeat ({@link CachedCredentialStore#HEARTBEAT_NANOS}) starts a round that proves three
 * things, and only a round that proves all three renews the cache's lease from when it was sent:
 * <ul>
 * <li>every feed connection still delivers: a nonce published through the store's client on this
 * instance's own channel comes back on each of them (Redis writes to a connection in order, so every
 * invalidation of a change applied before the publication has arrived first; in a Cluster a
 * publication reaches every node's subscribers; and a nonce that the store's client publishes on
 * another server than the feed's, as after a failover it has not followed yet, never comes back);</li>
 * <li>the keyspace is still the one the cache remembers: a marker key this instance wrote, read
 * through the store's client, still holds its value ({@code SWAPDB}, a restart with an empty or
 * older data set, a failover to a replica that missed writes all lose or change it, and none of them
 * sends invalidations);</li>
 * <li>the masters are still the ones the feed listens to (Sentinel and Cluster): a failover, a slot
 * moved or a node added empties the cache and the feed is set up again on the new masters.</li>
 * </ul>
 * A round still out at the next heartbeat publishes its nonce again (the store's client may just
 * have moved to the feed's master); one not proved within a few seconds has the feed set up again.
 * After any (re)connection nothing is remembered until a round has proved itself, so no value read
 * before the store's client and the feed were shown to use the same masters is ever served.
 *
 * <p>Everything but {@link #close()} runs on one Vert.x context, taken in {@link #start()}: the
 * connections, the timers and the store's answers all complete there.
 */
public final class RedisInvalidations implements TrackingConnection.Listener {

    private static final Logger LOG = Logger.getLogger(RedisInvalidations.class);
    private static final long HEARTBEAT_MILLIS = CachedCredentialStore.HEARTBEAT_NANOS / 1_000_000;
    /** A round not proved for this long: the feed is taken for lost and set up again. */
    private static final long SILENCE_NANOS = 3_000_000_000L;
    private static final long MAX_BACKOFF_MILLIS = 30_000;
    /** The marker lives a day and is written again every hour, so dead instances leave nothing behind. */
    private static final long MARKER_TTL_SECONDS = 86_400;
    private static final long MARKER_REWRITE_NANOS = 3_600_000_000_000L;

    private final Vertx vertx;
    private final String prefix;
    private final CachedCredentialStore cache;
    private final SessionChannels channels;
    private final Redis store;
    private final RedisMasters masters;
    private final String markerKey;
    private final String heartbeatChannel;
    /** Every connection not closed yet, for {@link #close()} from any thread. */
    private final Set<TrackingConnection> open = ConcurrentHashMap.newKeySet();
    private Context context;
    private List<TrackingConnection> connections = List.of();
    private RedisMasters.Topology topology;
    /** Bumped whenever the connections are dropped, so that a set-up still under way is discarded. */
    private long generation;
    private long backoff = 500;
    private long heartbeatTimer = -1;
    private Round round;
    private long rounds;
    private String markerValue;
    private long markerWrittenAt;
    private volatile boolean closed;

    /**
     * @param storeOptions the options the store's client was created with: the feed reaches the same
     *                     servers with the same endpoints, credentials and TLS settings
     * @param store        the store's own client, through which the marker key is written and read and
     *                     the heartbeat published (the same Redis, database and credentials the
     *                     sessions are read with)
     */
    public RedisInvalidations(Vertx vertx, RedisOptions storeOptions, String prefix, CachedCredentialStore cache,
                              SessionChannels channels, Redis store) {
        this.vertx = vertx;
        this.prefix = prefix;
        this.cache = cache;
        this.channels = channels;
        this.store = store;
        this.masters = new RedisMasters(vertx, storeOptions, store);
        String instance = randomToken();
        this.markerKey = prefix + "jmap-auth-proxy:keyspace-marker:" + instance;
        this.heartbeatChannel = "jmap-auth-proxy:heartbeat:" + instance;
    }

    /**
     * Why no feed can vouch for what a store with these options reads (then the cache stays off), if
     * none can.
     */
    public static Optional<String> unsupported(RedisOptions storeOptions) {
        return RedisMasters.unsupported(storeOptions);
    }

    /** One heartbeat: touched on the feed's context only. */
    private static final class Round {
        /** When the round was sent, on the cache's clock: the lease is counted from here. */
        final long sent;
        final long startedNanos = System.nanoTime();
        final String nonce;
        final int connections;
        final Set<TrackingConnection> echoed = new HashSet<>();
        boolean markerOk;
        boolean topologyOk;

        Round(long sent, String nonce, int connections, boolean topologyOk) {
            this.sent = sent;
            this.nonce = nonce;
            this.connections = connections;
            this.topologyOk = topologyOk;
        }

        boolean proved() {
            return echoed.size() == connections && markerOk && topologyOk;
        }

        String missing() {
            return !markerOk ? "the keyspace marker was not read"
                    : !topologyOk ? "the topology was not read"
                    : "the heartbeat came back on " + echoed.size() + " of " + connections + " connections";
        }
    }

    private static String randomToken() {
        byte[] bytes = new byte[12];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    public void start() {
        context = vertx.getOrCreateContext();
        context.runOnContext(v -> connect());
    }

    private void connect() {
        if (closed) {
            return;
        }
        long current = ++generation;
        List<TrackingConnection> opening = new ArrayList<>();
        masters.current().compose(found -> {
            List<Future<Void>> subscribed = new ArrayList<>();
            for (String address : found.masters()) {
                TrackingConnection connection = new TrackingConnection(vertx, masters.feedOptions(address), address,
                        prefix, heartbeatChannel, !masters.fixed(), this);
                opening.add(connection);
                open.add(connection);
                subscribed.add(connection.open());
            }
            return Future.all(subscribed).compose(all -> writeMarker()).map(found);
        }).onComplete(result -> {
            if (closed || current != generation || result.failed()) {
                opening.forEach(this::closeConnection);
                if (result.failed() && !closed && current == generation) {
                    LOG.warnf("session cache off: cannot subscribe to Redis invalidations (%s); retrying",
                            result.cause().getMessage());
                    retry(true);
                }
                return;
            }
            connections = List.copyOf(opening);
            topology = result.result();
            backoff = 500;
            round = null;
            LOG.infof("session cache: Redis invalidation feed subscribed on %s", topology);
            heartbeatTimer = vertx.setPeriodic(HEARTBEAT_MILLIS, id -> heartbeat());
            heartbeat();
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
        if (connections.isEmpty() || closed) {
            return;
        }
        Round last = round;
        if (last != null && !last.proved()) {
            if (System.nanoTime() - last.startedNanos > SILENCE_NANOS) {
                lose("not proved for " + SILENCE_NANOS / 1_000_000 + " ms: " + last.missing());
                return;
            }
            // Still out (Redis slow, or the store's client not yet on the feed's master): the lease runs
            // out meanwhile. Publishing the nonce again lets the round prove itself once the store's
            // client has moved; its echo still follows every invalidation of a change before `sent`.
            publish(last);
            return;
        }
        Round current = new Round(cache.now(), Long.toString(++rounds), connections.size(), masters.fixed());
        round = current;
        checkMarker(current);
        if (!masters.fixed()) {
            masters.current().onSuccess(now -> {
                if (round != current) {
                    return;
                }
                if (!now.equals(topology)) {
                    topologyChanged(now);
                    return;
                }
                current.topologyOk = true;
                renewWhenProved(current);
            });
        }
        publish(current);
    }

    private void publish(Round current) {
        store.send(Request.cmd(Command.PUBLISH).arg(heartbeatChannel).arg(current.nonce));
    }

    private void checkMarker(Round current) {
        String expected = markerValue;
        store.send(Request.cmd(Command.GET).arg(markerKey)).onSuccess(value -> {
            if (round != current) {
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
    }

    /** A failover, a slot moved, a node added or gone: what the feed listens to is no longer all. */
    private void topologyChanged(RedisMasters.Topology now) {
        LOG.warnf("session cache emptied: the Redis topology changed (%s, was %s); the feed is set up again",
                now, topology);
        cache.invalidateAll();
        channels.changedAll();
        drop();
        retry(false);
    }

    @Override
    public void echoed(TrackingConnection from, String nonce) {
        Round current = round;
        if (current == null || !current.nonce.equals(nonce) || !connections.contains(from)) {
            return;
        }
        current.echoed.add(from);
        renewWhenProved(current);
    }

    private void renewWhenProved(Round current) {
        if (!current.proved()) {
            return;
        }
        if (!cache.feedConnected()) {
            // The first proof since (re)connecting: from now on values read through the store's client
            // are covered by the feed's invalidations; anything read before is not, and is not kept.
            cache.feedConnected(true);
            LOG.info("session cache on: the Redis invalidation feed proved itself");
        }
        cache.renewLease(current.sent);
        if (System.nanoTime() - markerWrittenAt > MARKER_REWRITE_NANOS) {
            writeMarker();
        }
    }

    @Override
    public void invalidated(List<String> keys) {
        if (keys == null) {
            cache.invalidateAll();
            channels.changedAll();
            return;
        }
        cache.invalidate(keys);
        channels.changed(keys);
    }

    @Override
    public void lost(TrackingConnection from, String why) {
        if (connections.contains(from) && !closed) {
            lose(from.address() + ": " + why);
        }
    }

    private void lose(String why) {
        LOG.warnf("session cache off: Redis invalidation feed lost (%s); reconnecting", why);
        drop();
        retry(true);
    }

    /** Stops the cache and closes every connection of the feed. */
    private void drop() {
        generation++;
        cache.feedConnected(false);
        vertx.cancelTimer(heartbeatTimer);
        connections.forEach(this::closeConnection);
        connections = List.of();
        round = null;
    }

    private void closeConnection(TrackingConnection connection) {
        open.remove(connection);
        connection.close();
    }

    private void retry(boolean backingOff) {
        if (closed) {
            return;
        }
        long delay = backingOff ? backoff : 1;
        if (backingOff) {
            backoff = Math.min(MAX_BACKOFF_MILLIS, backoff * 2);
        }
        vertx.setTimer(delay, id -> connect());
    }

    public void close() {
        closed = true;
        cache.feedConnected(false);
        vertx.cancelTimer(heartbeatTimer);
        for (TrackingConnection connection : open) {
            connection.close();
        }
        open.clear();
        masters.close();
    }
}
