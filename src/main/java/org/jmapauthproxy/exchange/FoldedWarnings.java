package org.jmapauthproxy.exchange;

import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * WARN lines that repeat are written once, then counted: the first occurrence of a key is logged in
 * full, the repeats only increment a counter, and once per interval one summary line says how many
 * there were ({@code "session store error: ... (repeated 41327 times in the last 10 s)"}). During an
 * outage under load every request fails the same way; without folding that is a line or two per
 * request (a 140 MB log for one minute of a Redis outage), which buries everything else and costs
 * more than serving the 503s.
 *
 * <p>The key is the line without what differs per request (the request id goes in the prefix, which
 * is printed only on a line that is logged in full). A suppressed repeat costs one map lookup and one
 * atomic increment: no formatting, no lock, so this may be called from event-loop threads.
 *
 * <p>Summaries are due when the interval of a key has passed; the next call for that key writes it,
 * and {@link #flush()} writes those of keys that went quiet. Instances made by {@link #every} have
 * {@code flush()} called once per interval by one daemon thread shared by all of them, so the count
 * of the last repeats of an outage is written even when nothing follows it.
 */
public final class FoldedWarnings {

    /** Distinct keys held at once; beyond that, lines are folded under one shared key. */
    static final int MAX_KEYS = 256;
    static final String OTHER = "further distinct warnings";

    private final Logger log;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();

    /** One key's window: when it began, and how many repeats it has counted so far. */
    private static final class Entry {
        final AtomicLong windowStart;
        final AtomicLong repeats = new AtomicLong();

        Entry(long now) {
            windowStart = new AtomicLong(now);
        }
    }

    /**
     * @param log       where the lines go (the caller's category)
     * @param interval  how long repeats are counted before one summary line
     * @param nanoClock monotonic nanoseconds ({@code System::nanoTime}; tests give their own)
     */
    public FoldedWarnings(Logger log, Duration interval, LongSupplier nanoClock) {
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive");
        }
        this.log = log;
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /** Folded warnings on the system clock, whose quiet keys are flushed once per interval. */
    public static FoldedWarnings every(Duration interval, Logger log) {
        FoldedWarnings warnings = new FoldedWarnings(log, interval, System::nanoTime);
        Sweeper.THREAD.scheduleWithFixedDelay(warnings::flush, interval.toNanos(), interval.toNanos(),
                TimeUnit.NANOSECONDS);
        return warnings;
    }

    /** Logs {@code key} at WARN the first time, counts it afterwards. */
    public void warn(String key) {
        warn(null, key);
    }

    /**
     * Logs {@code prefix + key} at WARN when {@code key} is new (or was quiet for a whole interval),
     * otherwise counts it. {@code prefix} (e.g. {@code "request 4f2a: "}) appears only on lines
     * logged in full, never in the key, so it does not stop repeats from folding.
     */
    public void warn(String prefix, String key) {
        long now = nanoClock.getAsLong();
        Entry entry = entries.get(key);
        if (entry == null) {
            if (entries.size() >= MAX_KEYS) {
                key = OTHER;
                entry = entries.get(key);
            }
            if (entry == null) {
                Entry fresh = new Entry(now);
                entry = entries.putIfAbsent(key, fresh);
                if (entry == null) {
                    log.warn(prefix == null ? key : prefix + key);
                    return;
                }
            }
        }
        long start = entry.windowStart.get();
        if (now - start < intervalNanos || !entry.windowStart.compareAndSet(start, now)) {
            entry.repeats.incrementAndGet();
            return;
        }
        // This call closes the window: it is part of the summary if there were repeats, or a fresh
        // occurrence after a quiet interval.
        long repeats = entry.repeats.getAndSet(0);
        if (repeats > 0) {
            summary(key, repeats + 1, now - start);
        } else {
            log.warn(prefix == null ? key : prefix + key);
        }
    }

    /**
     * Writes the summary of every key whose interval has passed with repeats, and forgets the keys
     * that had none (their next occurrence is logged in full again).
     */
    public void flush() {
        long now = nanoClock.getAsLong();
        for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Entry> e = it.next();
            Entry entry = e.getValue();
            long start = entry.windowStart.get();
            if (now - start < intervalNanos || !entry.windowStart.compareAndSet(start, now)) {
                continue;
            }
            long repeats = entry.repeats.getAndSet(0);
            if (repeats > 0) {
                summary(e.getKey(), repeats, now - start);
            } else if (entries.remove(e.getKey(), entry)) {
                // A repeat counted between the reset and the removal still gets its line.
                long late = entry.repeats.getAndSet(0);
                if (late > 0) {
                    summary(e.getKey(), late, now - start);
                }
            }
        }
    }

    private void summary(String key, long repeats, long elapsedNanos) {
        log.warnf("%s (repeated %d times in the last %d s)", key, repeats,
                Math.max(1, Math.round(elapsedNanos / 1e9)));
    }

    /** One daemon thread for every instance made by {@link #every}: a flush per interval is all it does. */
    private static final class Sweeper {
        static final ScheduledExecutorService THREAD = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "folded-warnings");
            thread.setDaemon(true);
            return thread;
        });
    }
}
