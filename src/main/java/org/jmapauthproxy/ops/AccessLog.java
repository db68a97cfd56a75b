package org.jmapauthproxy.ops;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
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
 *
 * <p>Nothing is allocated per line once warm: each thread builds its lines in a builder of its own,
 * the two batch buffers take turns, and the writer encodes a batch to UTF-8 in a fixed array of its
 * own, piece by piece, instead of copying it into a string and that string into bytes.
 */
public final class AccessLog implements AutoCloseable {

    static final String CATEGORY = "authproxy.access";
    private static final Logger CATEGORY_LOGGER = Logger.getLogger(CATEGORY);
    private static final Logger LOG = Logger.getLogger(AccessLog.class);
    private static final int WAKE_AT = 256 * 1024;
    private static final int BATCH = 64 * 1024;
    /**
     * A batch buffer that grew past this (a burst, up to {@code max-buffered}) is not kept for the next
     * batch. Batches end a little past {@link #WAKE_AT}, where a buffer's doubling has taken it to
     * about twice that, so buffers of usual batches are kept and do not grow again.
     */
    private static final int KEEP_BATCH = 4 * WAKE_AT;
    /** A line builder that grew past this (a very long path) is not kept for the next line. */
    private static final int KEEP_LINE = 4096;
    /** Characters encoded per write; each takes at most 3 bytes (a surrogate pair, two, takes 4). */
    static final int CHUNK = 16 * 1024;
    private static final ThreadLocal<StringBuilder> LINE = ThreadLocal.withInitial(() -> new StringBuilder(448));

    private final boolean json;
    private final long flushNanos;
    private final int maxBuffered;
    private final ZoneId zone;
    private final DateTimeFormatter secondFormat;
    private final AtomicLong dropped = new AtomicLong();
    private final Object lock = new Object();
    private final Thread writer;
    private StringBuilder pending = new StringBuilder(BATCH);
    /** The batch buffer not in use, emptied; taken and given back under {@code lock}. */
    private StringBuilder spare = new StringBuilder(BATCH);
    /** The writer's UTF-8 bytes; used under the writer's monitor only. */
    private final byte[] encoded = new byte[CHUNK * 3];
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
        StringBuilder line = LINE.get();
        line.setLength(0);
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
        if (line.capacity() > KEEP_LINE) {
            LINE.remove();
        }
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
                pending = spare;
                spare = null;
            }
            try {
                PrintStream out = System.out;
                writeUtf8(out, batch, encoded, CHUNK);
                out.flush();
                if (out.checkError()) {
                    LOG.debug("standard output refused access lines");
                }
            } finally {
                // Whatever became of this batch, the next flush needs a buffer to take its place.
                batch.setLength(0);
                synchronized (lock) {
                    spare = batch.capacity() > KEEP_BATCH ? new StringBuilder(BATCH) : batch;
                }
            }
        }
    }

    /**
     * Writes {@code text} as UTF-8, {@code chunk} characters at a time through {@code scratch} (at
     * least {@code 3 * chunk} bytes; {@code chunk} at least 2). The bytes are those of
     * {@code text.toString().getBytes(UTF_8)}: a surrogate without its pair becomes {@code ?}, and a
     * pair is never split between two pieces.
     */
    static void writeUtf8(OutputStream out, CharSequence text, byte[] scratch, int chunk) {
        int n = text.length();
        for (int from = 0; from < n; ) {
            int to = Math.min(n, from + chunk);
            if (to < n && to - 1 > from && Character.isHighSurrogate(text.charAt(to - 1))) {
                to--;
            }
            int length = 0;
            for (int i = from; i < to; i++) {
                char c = text.charAt(i);
                if (c < 0x80) {
                    scratch[length++] = (byte) c;
                } else if (c < 0x800) {
                    scratch[length++] = (byte) (0xc0 | c >> 6);
                    scratch[length++] = (byte) (0x80 | c & 0x3f);
                } else if (!Character.isSurrogate(c)) {
                    scratch[length++] = (byte) (0xe0 | c >> 12);
                    scratch[length++] = (byte) (0x80 | c >> 6 & 0x3f);
                    scratch[length++] = (byte) (0x80 | c & 0x3f);
                } else if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(text.charAt(i + 1))) {
                    int codePoint = Character.toCodePoint(c, text.charAt(++i));
                    scratch[length++] = (byte) (0xf0 | codePoint >> 18);
                    scratch[length++] = (byte) (0x80 | codePoint >> 12 & 0x3f);
                    scratch[length++] = (byte) (0x80 | codePoint >> 6 & 0x3f);
                    scratch[length++] = (byte) (0x80 | codePoint & 0x3f);
                } else {
                    scratch[length++] = '?';
                }
            }
            try {
                out.write(scratch, 0, length);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            from = to;
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
