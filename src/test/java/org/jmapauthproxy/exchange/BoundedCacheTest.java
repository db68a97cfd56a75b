package org.jmapauthproxy.exchange;

import com.github.benmanes.caffeine.cache.Cache;
import org.jmapauthproxy.support.SettableClock;
import org.junit.jupiter.api.Test;


import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BoundedCacheTest {

    static final long MAX_BYTES = 100_000;

    /** 100 entries and 100,000 bytes (one slot is 1,000 bytes), each entry estimated at {@code bytesEach}. */
    static Cache<Integer, String> cache(long bytesEach) {
        return BoundedCache.<Integer, String>builder(100, MAX_BYTES, (key, value) -> bytesEach - BoundedCache.ENTRY_BYTES)
                .build();
    }

    static long weight(Cache<Integer, String> cache) {
        return cache.policy().eviction().orElseThrow().weightedSize().orElseThrow();
    }

    static void fill(Cache<Integer, String> cache, int n) {
        for (int i = 0; i < n; i++) {
            cache.put(i, "v" + i);
        }
        cache.cleanUp();
    }

    @Test
    void entriesSmallerThanASlotFillTheEntryBoundExactly() {
        Cache<Integer, String> cache = cache(200);
        fill(cache, 300);
        assertEquals(100, cache.estimatedSize());
        assertEquals(MAX_BYTES, weight(cache), "each counts as one slot");
    }

    @Test
    void entriesLargerThanASlotAreHeldToTheByteBound() {
        Cache<Integer, String> cache = cache(10_000);
        fill(cache, 300);
        assertEquals(10, cache.estimatedSize());
        assertTrue(weight(cache) <= MAX_BYTES, "bytes: " + weight(cache));
    }

    @Test
    void fewerBytesThanEntriesStillHoldBothBounds() {
        Cache<Integer, String> cache = BoundedCache.<Integer, String>builder(100, 50, (key, value) -> 0).build();
        fill(cache, 300);
        assertEquals(0, cache.estimatedSize(), "no entry fits 50 bytes: it is estimated at " + BoundedCache.ENTRY_BYTES);
    }

    @Test
    void aBoundOfNoEntriesKeepsNothing() {
        Cache<Integer, String> cache = BoundedCache.<Integer, String>builder(0, MAX_BYTES, (key, value) -> 0).build();
        fill(cache, 10);
        assertEquals(0, cache.estimatedSize());
    }

    @Test
    void entriesExpireAtTheirOwnInstantOnTheGivenClock() {
        SettableClock clock = new SettableClock(1_700_000_000_000L);
        // The value is its own deadline, in milliseconds after the start.
        Cache<String, Long> cache = BoundedCache.expiringAt(BoundedCache.<String, Long>builder(100, MAX_BYTES,
                (key, value) -> 0), clock, (key, deadline) -> 1_700_000_000_000L + deadline).build();
        cache.put("soon", 1_000L);
        cache.put("later", 60_000L);
        clock.advance(999);
        assertNotNull(cache.getIfPresent("soon"));
        clock.advance(1);
        assertNull(cache.getIfPresent("soon"), "served at its deadline");
        assertNotNull(cache.getIfPresent("later"));
        clock.advance(59_000);
        assertNull(cache.getIfPresent("later"));
        cache.cleanUp();
        assertEquals(0, cache.estimatedSize(), "expired entries are dropped, not only hidden");
    }
}
