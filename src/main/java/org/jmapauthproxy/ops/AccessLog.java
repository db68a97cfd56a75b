package org.jmapauthproxy.ops;

import org.jboss.logging.Logger;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes access lines to standard output in batches, as nginx's buffered {@code access_log} does.
 *
 * <p>Handing every line to the logging system cost about a third of the proxy's throughput on one
 * CPU: each line woke the asynchronous console thread (a futex and a context switch) and became one
 * {@code write} of its own. Here an event loop only appends the finished line to a buffer; a
 * background thread writes what has gathered every {@code flush-interval}, or sooner once 256 KiB
 * are waiting, in one write. The lines keep the console's layout (or its JSON layout when
 * {@code quarkus.log.console.json.enabled} is set), and the {@code authproxy.access} log category's
 * level still switches them off.
 *
 * <p>Never blocks an event loop: when the output does not keep up and {@code max-buffered} characters
 * are waiting, further lines are dropped and counted ({@code authproxy_access_lines_dropped_total}).
 */
public final class AccessLog implements AutoCloseable {

    static final String CATEGORY = "authproxy.access";
    private static final Logger CATEGORY_LOGGER = Logger.getLogger(CATEGORY);
    private static final Logger LOG = Logger.getLogger(AccessLog.class);
    private static final int WAKE_AT = 256 * 1024;
    private static final int BATCH = 64 * 1024;

    private final boolean json;
    private final long flushNanos;
    private final int maxBuffered;
    private final ZoneId zone;
    private final DateTimeFormatter secondFormat;
    private final AtomicLong dropped = new AtomicLong();
    private final Object lock = new Object();
    private final Thread writer;
    private StringBuilder pending = new StringBuilder(BATCH);
    private volatile Stamp stamp;
    private volatile boolean closed;

    /** The formatted date and time up to the second, for the second it names. */
    private record Stamp(long second, String upToSecond, String zoneSuffix) {
    }

    public AccessLog(boolean json, long flushIntervalMillis, int maxBuffered) {
        this.json = json;
        this.flushNanos = TimeUnit.MILLISECONDS.toNanos(Math.max(1, flushIntervalMillis));
        this.maxBuffered = maxBuffered;
        this.zone = ZoneId.systemDefault();
        this.secondFormat = DateTimeFormatter.ofPattern(json ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd HH:mm:ss");
        this.writer = new Thread(this::writeLoop, "authproxy-access-log");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    /** Whether access lines are wanted (the {@code authproxy.access} category logs at INFO). */
    public boolean enabled() {
        return CATEGORY_LOGGER.isInfoEnabled();
    }

    /** Lines dropped because the output did not keep up. */
    public AtomicLong dropped() {
        return dropped;
    }

    /**
     * Queues the access line of one finished request, built straight into its layout: method, path
     * without query, status, duration, bytes sent, outcome, request id, the trace id when tracing is
     * on ({@code null} otherwise: no field at all) and, when given, the user.
     * The request id and the trace id are plain already ({@code [A-Za-z0-9._-]}); the path and the user are escaped.
     */
    public void request(String method, String path, int status, long durationNanos, long bytes, String outcome,
                        String requestId, String traceId, String user) {
        StringBuilder line = new StringBuilder(json ? 448 : 192);
        long now = System.currentTimeMillis();
        if (json) {
            line.append("{\"timestamp\":\"");
            appendTime(line, now);
            line.append("\",\"level\":\"INFO\",\"loggerName\":\"").append(CATEGORY).append("\",\"message\":\"");
            appendText(line, method, path, status, durationNanos, bytes, outcome, requestId, traceId, user);
            line.append("\",\"method\":\"").append(method).append("\",\"path\":\"");
            appendEscaped(line, path, true);
            line.append("\",\"status\":").append(status)
                    .append(",\"durationMs\":").append(durationNanos / 1e6)
                    .append(",\"bytes\":").append(bytes)
                    .append(",\"outcome\":\"").append(outcome)
                    .append("\",\"requestId\":\"").append(requestId).append('"');
            if (traceId != null) {
                line.append(",\"traceId\":\"").append(traceId).append('"');
            }
            if (user != null) {
                line.append(",\"user\":\"");
                appendEscaped(line, user, true);
                line.append('"');
            }
            line.append("}\n");
        } else {
            appendTime(line, now);
            line.append(" INFO  [").append(CATEGORY).append("] ");
            appendText(line, method, path, status, durationNanos, bytes, outcome, requestId, traceId, user);
            line.append('\n');
        }
        enqueue(line);
    }

    /** The line's text, {@code name=value} after method and path; the JSON layout's {@code message}. */
    private void appendText(StringBuilder line, String method, String path, int status, long durationNanos,
                            long bytes, String outcome, String requestId, String traceId, String user) {
        long tenthsOfMs = durationNanos / 100_000;
        line.append(method).append(' ');
        appendEscaped(line, path, json);
        line.append(" status=").append(status)
                .append(" duration_ms=").append(tenthsOfMs / 10).append('.').append(tenthsOfMs % 10)
                .append(" bytes=").append(bytes)
                .append(" outcome=").append(outcome)
                .append(" request_id=").append(requestId);
        if (traceId != null) {
            line.append(" trace_id=").append(traceId);
        }
        if (user != null) {
            line.append(" user=");
            appendEscaped(line, user, json);
        }
    }

    private void enqueue(StringBuilder line) {
        boolean wake;
        synchronized (lock) {
            if (pending.length() + line.length() > maxBuffered) {
                dropped.incrementAndGet();
                return;
            }
            pending.append(line);
            wake = pending.length() >= WAKE_AT;
        }
        if (closed) {
            flush();
        } else if (wake) {
            LockSupport.unpark(writer);
        }
    }

    private void appendTime(StringBuilder line, long epochMillis) {
        long second = Math.floorDiv(epochMillis, 1000);
        Stamp current = stamp;
        if (current == null || current.second() != second) {
            var time = Instant.ofEpochSecond(second).atZone(zone);
            String offset = time.getOffset().getId();
            current = new Stamp(second, secondFormat.format(time), "Z".equals(offset) ? "Z" : offset);
            stamp = current;
        }
        int millis = (int) Math.floorMod(epochMillis, 1000L);
        line.append(current.upToSecond()).append(json ? '.' : ',');
        if (millis < 100) {
            line.append('0');
        }
        if (millis < 10) {
            line.append('0');
        }
        line.append(millis);
        if (json) {
            line.append(current.zoneSuffix());
        }
    }

    /**
     * Control characters as {@code \\u00XX}, so that a line stays one line whatever a path or a name
     * holds; for JSON also quotes and backslashes.
     */
    static void appendEscaped(StringBuilder out, CharSequence s, boolean json) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (json && (c == '"' || c == '\\')) {
                out.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                out.append("\\u00").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
            } else {
                out.append(c);
            }
        }
    }

    private void writeLoop() {
        while (!closed) {
            LockSupport.parkNanos(this, flushNanos);
            flush();
        }
    }

    /** Writes whatever is waiting, now. */
    public void flush() {
        // One flush at a time, so that batches leave in the order they were taken; the lock of
        // System.out keeps each batch whole against the console handler's own lines.
        synchronized (writer) {
            StringBuilder batch;
            synchronized (lock) {
                if (pending.isEmpty()) {
                    return;
                }
                batch = pending;
                pending = new StringBuilder(Math.max(BATCH, batch.length()));
            }
            byte[] bytes = batch.toString().getBytes(StandardCharsets.UTF_8);
            PrintStream out = System.out;
            out.write(bytes, 0, bytes.length);
            out.flush();
            if (out.checkError()) {
                LOG.debug("standard output refused access lines");
            }
        }
    }

    /** Writes what is waiting; later lines (requests finishing during shutdown) are written at once. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(writer);
        try {
            writer.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        flush();
    }
}
