package org.jmapauthproxy.exchange;

import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import java.time.Clock;
import java.time.Duration;
import java.util.function.ToLongBiFunction;

/**
 * How the proxy remembers things (verified tokens, sealed sessions, minted Cyrus tokens, rewritten
 * session documents): a Caffeine cache held to a number of entries and to a number of bytes at once.
 * Caffeine evicts by the recency and frequency of use (W-TinyLFU), so a working set a little larger
 * than the cache keeps most of its hits, where a map emptied when full would lose them all at once.
 *
 * <p>Caffeine bounds either the count ({@code maximumSize}) or a weight ({@code maximumWeight}), not
 * both. So every entry weighs its estimated bytes, but never less than one slot, {@code maxBytes /
 * maxEntries}, and the total weight is held to {@code maxEntries} slots (at most {@code maxBytes}):
 * entries of ordinary size fill the count bound exactly, large ones take room for several, and the
 * bytes can never pass {@code maxBytes}. A bound of 0 entries keeps nothing.
 *
 * <p>Maintenance (eviction, expiry) runs on the calling thread, in small amortised steps, rather
 * than on the common fork-join pool: nothing is scheduled from an event loop, and the bounds hold
 * when a call returns.
 */
public final class BoundedCache {

    /**
     * Bytes of one entry beyond its keys and values: Caffeine's node (key and value references,
     * weight, expiry, queue links) and the value's own object header, roughly.
     */
    public static final long ENTRY_BYTES = 96;
    /** Bytes of a {@link String} beyond its characters: its header and its array's header. */
    static final long STRING_BYTES = 40;

    private BoundedCache() {
    }

    /**
     * A Caffeine builder bounded to {@code maxEntries} entries and {@code maxBytes} bytes.
     *
     * @param bytes the estimated bytes of an entry's keys and values ({@link #ENTRY_BYTES} is added)
     */
    public static <K, V> Caffeine<K, V> builder(long maxEntries, long maxBytes, ToLongBiFunction<K, V> bytes) {
        long slot = maxEntries <= 0 ? 1 : Math.max(1, maxBytes / maxEntries);
        long capacity = maxEntries <= 0 ? 0 : Math.min(maxBytes, maxEntries * slot);
        return Caffeine.newBuilder()
                .executor(Runnable::run)
                .maximumWeight(capacity)
                .weigher((K key, V value) -> (int) Math.min(Integer.MAX_VALUE,
                        Math.max(slot, ENTRY_BYTES + bytes.applyAsLong(key, value))));
    }

    /**
     * Makes each entry of {@code builder} expire at an instant of its own on {@code clock} (a token's
     * {@code exp}), which then also is the cache's time source.
     *
     * @param deadlineMillis when an entry stops being served, in milliseconds since the epoch
     */
    public static <K, V> Caffeine<K, V> expiringAt(Caffeine<K, V> builder, Clock clock,
                                                   ToLongBiFunction<K, V> deadlineMillis) {
        return builder.ticker(() -> clock.millis() * 1_000_000L)
                .expireAfter(Expiry.writing((K key, V value) ->
                        Duration.ofMillis(Math.max(0, deadlineMillis.applyAsLong(key, value) - clock.millis()))));
    }

    /** Estimated bytes of a string on the heap (Latin-1 content, as tokens, keys and base64 are); 0 for null. */
    public static long bytes(String s) {
        return s == null ? 0 : STRING_BYTES + s.length();
    }
}
