package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.jboss.logging.Logger;
import org.jmapauthproxy.exchange.OpenChannels;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;

/**
 * Ends the event streams and WebSockets of a session when it is deleted or changed in the store,
 * within the revocation bound ({@link CachedCredentialStore#BOUND_NANOS}).
 *
 * <p>While the invalidation feed holds its lease, a channel's session is re-read as soon as Redis
 * reports a change of its key (or of everything: a flush, a keyspace swap). Without a valid lease
 * (no feed, the cache off, the feed stalled), every open channel's session is re-read twice per
 * bound, all of them in one round trip. A channel whose session is gone or holds another value is
 * revoked; so is every channel when the store cannot be read for longer than the bound, since a
 * deletion could then go unseen. Other sessions' channels are never touched.
 */
public final class SessionChannels implements OpenChannels {

    private static final Logger LOG = Logger.getLogger(SessionChannels.class);
    private static final long SWEEP_MILLIS = CachedCredentialStore.BOUND_NANOS / 2 / 1_000_000;

    private record Channel(String fingerprint, Runnable revoke) {
    }

    private final RedisCredentialStore store;
    private final BooleanSupplier leaseValid;
    private final Map<String, Set<Channel>> byKey = new ConcurrentHashMap<>();
    private volatile long lastConfirmed = System.nanoTime();
    /** When the sweep's own re-read was sent, while it is out; 0 when none is. */
    private volatile long sweepSent;

    /** @param leaseValid whether the invalidation feed currently vouches for the keyspace */
    public SessionChannels(Vertx vertx, RedisCredentialStore store, BooleanSupplier leaseValid) {
        this.store = store;
        this.leaseValid = leaseValid;
        vertx.setPeriodic(SWEEP_MILLIS, id -> sweep());
    }

    @Override
    public Runnable register(String sessionKey, String fingerprint, Runnable revoke) {
        Channel channel = new Channel(fingerprint, revoke);
        byKey.computeIfAbsent(sessionKey, k -> ConcurrentHashMap.newKeySet()).add(channel);
        // A change between the request's lookup and this registration sent its invalidation before
        // anyone watched the key: one read now closes that window (channels open rarely).
        check(List.of(sessionKey));
        return () -> byKey.computeIfPresent(sessionKey, (k, set) -> {
            set.remove(channel);
            return set.isEmpty() ? null : set;
        });
    }

    /** Channels open now (for metrics and tests). */
    public int open() {
        int n = 0;
        for (Set<Channel> set : byKey.values()) {
            n += set.size();
        }
        return n;
    }

    /** The store reported a change of these keys. */
    public void changed(Collection<String> keys) {
        List<String> watched = new ArrayList<>();
        for (String key : keys) {
            if (byKey.containsKey(key)) {
                watched.add(key);
            }
        }
        if (!watched.isEmpty()) {
            check(watched);
        }
    }

    /** The store reported that anything may have changed. */
    public void changedAll() {
        if (!byKey.isEmpty()) {
            check(new ArrayList<>(byKey.keySet()));
        }
    }

    private void sweep() {
        if (leaseValid.getAsBoolean()) {
            lastConfirmed = System.nanoTime();
            return;
        }
        if (byKey.isEmpty()) {
            lastConfirmed = System.nanoTime();
            return;
        }
        long out = sweepSent;
        if (out != 0 && System.nanoTime() - out < CachedCredentialStore.BOUND_NANOS) {
            // The last re-read is still out (Redis slow or unreachable).
            revokeAllIfUnconfirmed();
            return;
        }
        long sent = System.nanoTime();
        sweepSent = sent;
        check(new ArrayList<>(byKey.keySet())).onComplete(ar -> {
            if (sweepSent == sent) {
                sweepSent = 0;
            }
        });
        revokeAllIfUnconfirmed();
    }

    private Future<Void> check(List<String> keys) {
        long started = System.nanoTime();
        return store.findAll(keys).<Void>map(values -> {
            if (keys.size() >= byKey.size()) {
                lastConfirmed = started;
            }
            for (int i = 0; i < keys.size(); i++) {
                StoredSession now = values.get(i);
                revokeUnless(keys.get(i), now == null ? null : now.fingerprint());
            }
            return null;
        }).onFailure(e -> revokeAllIfUnconfirmed());
    }

    private void revokeUnless(String key, String fingerprint) {
        Set<Channel> channels = byKey.get(key);
        if (channels == null) {
            return;
        }
        for (Channel channel : channels) {
            if (fingerprint == null || !fingerprint.equals(channel.fingerprint())) {
                channels.remove(channel);
                channel.revoke().run();
            }
        }
        byKey.computeIfPresent(key, (k, set) -> set.isEmpty() ? null : set);
    }

    private void revokeAllIfUnconfirmed() {
        if (System.nanoTime() - lastConfirmed < CachedCredentialStore.BOUND_NANOS) {
            return;
        }
        if (!byKey.isEmpty()) {
            LOG.warnf("session store unreadable for over %d ms: ending %d open event streams and WebSockets",
                    CachedCredentialStore.BOUND_NANOS / 1_000_000, open());
        }
        for (String key : new ArrayList<>(byKey.keySet())) {
            revokeUnless(key, null);
        }
    }
}
