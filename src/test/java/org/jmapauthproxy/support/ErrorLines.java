package org.jmapauthproxy.support;

import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects every ERROR (or worse) log record written in this JVM while installed, for tests that
 * assert a client's input never produces one: ERROR is kept for the proxy's own bugs.
 */
public final class ErrorLines extends Handler implements AutoCloseable {

    private final List<String> lines = new ArrayList<>();

    public static ErrorLines install() {
        ErrorLines handler = new ErrorLines();
        handler.setLevel(Level.SEVERE);
        Logger.getLogger("").addHandler(handler);
        return handler;
    }

    @Override
    public synchronized void publish(LogRecord record) {
        if (record.getLevel().intValue() >= Level.SEVERE.intValue()) {
            lines.add(record.getLoggerName() + ": " + record.getMessage()
                    + (record.getThrown() == null ? "" : " (" + record.getThrown() + ")"));
        }
    }

    public synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        Logger.getLogger("").removeHandler(this);
    }
}
