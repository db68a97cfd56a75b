package org.jmapauthproxy.exchange;

import org.jboss.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Repeated warnings: the first in full, then one summary per interval, on a clock the test moves. */
class FoldedWarningsTest {

    static final String CATEGORY = "test.folded-warnings";
    static final long SECOND = 1_000_000_000L;

    final AtomicLong clock = new AtomicLong(5 * SECOND);
    final List<String> lines = new ArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            synchronized (lines) {
                lines.add(record.getLevel() + " " + new java.util.logging.SimpleFormatter().formatMessage(record));
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    FoldedWarnings warnings;

    @BeforeEach
    void setUp() {
        java.util.logging.Logger.getLogger(CATEGORY).addHandler(capture);
        warnings = new FoldedWarnings(Logger.getLogger(CATEGORY), Duration.ofSeconds(10), clock::get);
    }

    @AfterEach
    void tearDown() {
        java.util.logging.Logger.getLogger(CATEGORY).removeHandler(capture);
    }

    List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    @Test
    void firstOccurrenceIsLoggedInFullAndRepeatsOnlyCounted() {
        warnings.warn("request r1: ", "store_unavailable (connection refused)");
        for (int i = 2; i <= 1000; i++) {
            warnings.warn("request r" + i + ": ", "store_unavailable (connection refused)");
        }
        assertEquals(List.of("WARN request r1: store_unavailable (connection refused)"), lines());
    }

    @Test
    void oneSummaryPerIntervalCountsTheRepeats() {
        warnings.warn("session store error: refused");
        for (int i = 0; i < 499; i++) {
            warnings.warn("session store error: refused");
        }
        clock.addAndGet(9 * SECOND);
        warnings.warn("session store error: refused");
        assertEquals(1, lines().size(), "no summary before the interval is over: " + lines());
        clock.addAndGet(SECOND);
        warnings.warn("session store error: refused");
        assertEquals(List.of("WARN session store error: refused",
                "WARN session store error: refused (repeated 501 times in the last 10 s)"), lines());
        clock.addAndGet(10 * SECOND);
        warnings.warn("session store error: refused");
        assertEquals(List.of("WARN session store error: refused"), lines().subList(2, lines().size()),
                "after an interval without repeats the next occurrence is logged in full");
    }

    @Test
    void flushWritesTheLastCountAndForgetsQuietKeys() {
        warnings.warn("a");
        warnings.warn("a");
        warnings.warn("a");
        warnings.warn("b");
        warnings.flush();
        assertEquals(List.of("WARN a", "WARN b"), lines(), "nothing is due before the interval");
        clock.addAndGet(10 * SECOND);
        warnings.flush();
        assertEquals(List.of("WARN a", "WARN b", "WARN a (repeated 2 times in the last 10 s)"), lines());
        clock.addAndGet(10 * SECOND);
        warnings.flush();
        assertEquals(3, lines().size(), "quiet keys give no line: " + lines());
        warnings.warn("a");
        warnings.warn("b");
        assertEquals(List.of("WARN a", "WARN b"), lines().subList(3, 5),
                "after a quiet interval the next occurrence is logged in full again");
    }

    @Test
    void distinctKeysFoldSeparatelyAndTheirNumberIsBounded() {
        for (int i = 0; i < FoldedWarnings.MAX_KEYS + 50; i++) {
            warnings.warn("error " + i);
            warnings.warn("error " + i);
        }
        List<String> logged = lines();
        assertEquals(FoldedWarnings.MAX_KEYS + 1, logged.size(), "one line per key, then one for the rest");
        assertEquals("WARN error 255", logged.get(FoldedWarnings.MAX_KEYS - 1));
        assertEquals("WARN " + FoldedWarnings.OTHER, logged.get(FoldedWarnings.MAX_KEYS));
        clock.addAndGet(10 * SECOND);
        warnings.flush();
        assertTrue(lines().contains("WARN " + FoldedWarnings.OTHER + " (repeated 99 times in the last 10 s)"), lines().toString());
    }

    @Test
    void concurrentRepeatsAreAllCounted() throws Exception {
        int threads = 4;
        int each = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    warnings.warn("request x: ", "store_unavailable (timeout)");
                }
            });
            worker.start();
            workers.add(worker);
        }
        go.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        clock.addAndGet(10 * SECOND);
        warnings.flush();
        assertEquals(List.of("WARN request x: store_unavailable (timeout)",
                "WARN store_unavailable (timeout) (repeated " + (threads * each - 1) + " times in the last 10 s)"), lines());
    }
}
