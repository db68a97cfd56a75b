package org.jmapauthproxy.upstream;

import org.junit.jupiter.api.Test;

import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ordinary pool split over event loops: the parts add up to the configured totals. */
class OriginPoolsTest {

    @Test
    void partsAddUpAndDifferByAtMostOne() {
        for (int total : new int[] {1, 2, 3, 7, 64, 1024}) {
            for (int parts = 1; parts <= Math.min(total, 8); parts++) {
                int p = parts;
                int[] shares = IntStream.range(0, parts).map(i -> Origin.share(total, p, i)).toArray();
                assertEquals(total, IntStream.of(shares).sum(), total + " over " + parts);
                int min = IntStream.of(shares).min().orElseThrow();
                int max = IntStream.of(shares).max().orElseThrow();
                assertTrue(min >= 1 && max - min <= 1, total + " over " + parts);
            }
        }
    }

    @Test
    void unboundedStaysUnbounded() {
        assertEquals(-1, Origin.share(-1, 4, 3));
    }

    @Test
    void zeroWaitQueueStaysZero() {
        assertEquals(0, Origin.share(0, 4, 0));
    }
}
