package org.jmapauthproxy.support;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A UTC clock that stands still until the test moves it. */
public final class SettableClock extends Clock {

    private final AtomicLong millis;

    public SettableClock(long epochMillis) {
        this.millis = new AtomicLong(epochMillis);
    }

    /** Moves the clock on by {@code millis} milliseconds. */
    public void advance(long millis) {
        this.millis.addAndGet(millis);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }
}
