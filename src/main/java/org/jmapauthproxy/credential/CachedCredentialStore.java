package org.jmapauthproxy.credential;

import io.vertx.core.Future;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Remembers stored sessions (still sealed: no password is held in clear) so that a webmail
 * client's stream of requests does not cost a store round trip each, while deletion or change of a
 * session still takes effect at once.
 *
 * <p>Values are served from memory only while the invalidation feed (see {@link RedisInvalidations})
 * holds a lease: the store tells the proxy about every write or deletion, and the entry is dropped;
 * the feed proves every {@link #HEARTBEAT_NANOS} that it is still receiving (a round trip on the feed
 * connection, after which every invalidation of a write applied before it has arrived). A value is
 * served only while the last such proof was sent less than {@link #LEASE_NANOS} ago, so a stalled or
 * partitioned feed stops the cache within the revocation bound {@link #BOUND_NANOS} (1 s) without
 * waiting for the connection to be declared lost. When the feed is down the cache is empty and every
 * lookup goes to the store. An entry is also dropped after a maximum age, in case an invalidation
 * is lost.
 *
 * <p>A lookup that started before an invalidation may return the old value after the invalidation
 * has been applied; it must not be cached. Every invalidation bumps an epoch, and a value is cached
 * only if no invalidation happened while it was being fetched.
 */
public final class CachedCredentialStore implements CredentialStore {

    private record Entry(StoredSession value, long storedAt) {
    }

    private final CredentialStore store;
    private final int maxEntries;
    private final long maxAgeNanos;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final AtomicLong epoch = new AtomicLong();
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    private volatile boolean feedConnected;
    /** {@link #nanoClock} value until which remembered values may be served. */
    private volatile long leaseUntil;

    /**
     * The revocation bound R: a session deleted or changed in the store is not served from memory
     * more than this long after the store applied the change.
     */
    public static final long BOUND_NANOS = 1_000_000_000L;
    /** How often the feed proves it is alive: four times per bound. */
    public static final long HEARTBEAT_NANOS = BOUND_NANOS / 4;
    /**
     * How long one proof lets the cache serve, counted from when the proof was sent: the bound less
     * one heartbeat of margin for the scheduling and the delivery of invalidations.
     */
    public static final long LEASE_NANOS = BOUND_NANOS - HEARTBEAT_NANOS;

    public CachedCredentialStore(CredentialStore store, int maxEntries, long maxAgeNanos, LongSupplier nanoClock) {
        this.store = store;
        this.maxEntries = maxEntries;
        this.maxAgeNanos = maxAgeNanos;
        this.nanoClock = nanoClock;
        this.leaseUntil = nanoClock.getAsLong();
    }

    @Override
    public Future<StoredSession> find(String key) {
        if (feedConnected && nanoClock.getAsLong() - leaseUntil < 0) {
            Entry entry = entries.get(key);
            if (entry != null) {
                if (nanoClock.getAsLong() - entry.storedAt() < maxAgeNanos) {
                    hits.incrementAndGet();
                    return Future.succeededFuture(entry.value());
                }
                entries.remove(key, entry);
            }
        }
        misses.incrementAndGet();
        long started = epoch.get();
        return store.find(key).onSuccess(value -> remember(key, value, started));
    }

    private void remember(String key, StoredSession value, long startedEpoch) {
        // Unknown sessions are not remembered: creating one must work on the very next request; nor
        // are values that are no session (malformed or oversized), which only cost memory here.
        if (value == null || value.malformed() || !feedConnected || epoch.get() != startedEpoch) {
            return;
        }
        if (entries.size() >= maxEntries) {
            // Full: start over rather than track recency on the hot path.
            entries.clear();
        }
        entries.put(key, new Entry(value, nanoClock.getAsLong()));
        if (epoch.get() != startedEpoch) {
            // An invalidation raced with the insert; it may have missed this entry.
            entries.remove(key);
        }
    }

    @Override
    public Future<Void> ping() {
        return store.ping();
    }

    /** The store says these keys changed. */
    public void invalidate(Collection<String> keys) {
        epoch.incrementAndGet();
        keys.forEach(entries::remove);
    }

    /** The store says everything may have changed (flush), or the feed was lost. */
    public void invalidateAll() {
        epoch.incrementAndGet();
        entries.clear();
    }

    /**
     * The feed proved, with a round trip sent at {@code sentAtNanos} (of this store's clock), that every
     * invalidation for a change applied before then has arrived.
     */
    public void renewLease(long sentAtNanos) {
        long until = sentAtNanos + LEASE_NANOS;
        if (until - leaseUntil > 0) {
            leaseUntil = until;
        }
    }

    /** This store's clock, in nanoseconds: the one leases are counted on. */
    public long now() {
        return nanoClock.getAsLong();
    }

    /** Whether remembered values may be served now. */
    public boolean leaseValid() {
        return feedConnected && nanoClock.getAsLong() - leaseUntil < 0;
    }

    /**
     * Called by the feed: values may be remembered and served only while it is connected, i.e. has
     * proved itself since it last (re)connected. Either way everything remembered so far is dropped.
     */
    public void feedConnected(boolean connected) {
        if (!connected) {
            leaseUntil = nanoClock.getAsLong();
            invalidateAll();
        }
        this.feedConnected = connected;
        if (connected) {
            // Anything remembered before the feed (re)connected may have missed invalidations.
            invalidateAll();
        }
    }

    public boolean feedConnected() {
        return feedConnected;
    }

    public long hits() {
        return hits.get();
    }

    public long misses() {
        return misses.get();
    }

    public int size() {
        return entries.size();
    }
}
