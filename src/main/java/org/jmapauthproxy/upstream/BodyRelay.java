package org.jmapauthproxy.upstream;

import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;
import io.vertx.core.streams.WriteStream;

import java.util.function.BooleanSupplier;

/**
 * A body on its way through the proxy, the origin's response to the client or the client's request
 * to the origin: each chunk written as it arrives, the reading side paused while the writing side's
 * queue is full and resumed when it drains.
 *
 * <p>This is what a Vert.x pipe does, less two costs it pays on every exchange: a promise and a
 * Netty listener for each write, and a separate pass through the pipeline for the end. Writes here
 * carry no completion handler (a client that goes away is seen by the exchange's close handler,
 * which resets the origin exchange; an origin that goes away fails the origin exchange's response),
 * and the last chunk of a body whose length is declared is held until the end, which the decoder
 * delivers right after it, so that it goes out with the end in one write: a small body leaves in
 * one message with its head.
 */
final class BodyRelay implements Handler<Buffer> {

    private static final Handler<AsyncResult<Void>> NO_COMPLETION = null;

    private final ReadStream<Buffer> source;
    private final WriteStream<Buffer> target;
    private final BooleanSupplier targetDone;
    private final long declaredLength;
    private final Handler<Throwable> done;
    private long relayed;
    private Buffer last;
    private boolean finished;

    private BodyRelay(ReadStream<Buffer> source, WriteStream<Buffer> target, BooleanSupplier targetDone,
                      long declaredLength, Handler<Throwable> done) {
        this.source = source;
        this.target = target;
        this.targetDone = targetDone;
        this.declaredLength = declaredLength;
        this.done = done;
    }

    /**
     * Starts relaying; {@code done} runs once, with {@code null} when the body has been handed on
     * whole (its end written), or with the source's failure, in which case the target is left
     * unended (the caller decides how it ends).
     *
     * @param targetDone     whether the target has been ended or closed by someone else meanwhile (then
     *                       the end is not written)
     * @param declaredLength the body's length as the target's head declares it, or -1
     */
    static void start(ReadStream<Buffer> source, WriteStream<Buffer> target, BooleanSupplier targetDone,
                      long declaredLength, Handler<Throwable> done) {
        BodyRelay relay = new BodyRelay(source, target, targetDone, declaredLength, done);
        source.handler(relay);
        source.endHandler(v -> relay.end());
        source.exceptionHandler(relay::fail);
        target.drainHandler(v -> {
            if (!relay.finished) {
                source.resume();
            }
        });
        source.resume();
    }

    /** The length a head declares for its body: its {@code Content-Length}, or -1 (none, or not a plain number). */
    static long declaredLength(String contentLength) {
        if (contentLength == null || contentLength.isEmpty() || contentLength.length() > 18) {
            return -1;
        }
        long length = 0;
        for (int i = 0; i < contentLength.length(); i++) {
            char c = contentLength.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            length = length * 10 + (c - '0');
        }
        return length;
    }

    @Override
    public void handle(Buffer chunk) {
        if (finished) {
            return;
        }
        relayed += chunk.length();
        if (relayed == declaredLength && last == null) {
            // The body's last bytes: its end is next.
            last = chunk;
            return;
        }
        if (last != null) {
            // More than was declared (the decoder does not allow it); keep the order regardless.
            Buffer held = last;
            last = null;
            target.write(held, NO_COMPLETION);
        }
        target.write(chunk, NO_COMPLETION);
        if (target.writeQueueFull()) {
            source.pause();
        }
    }

    private void end() {
        if (finished) {
            return;
        }
        finish();
        if (!targetDone.getAsBoolean()) {
            if (last != null) {
                target.end(last, NO_COMPLETION);
            } else {
                target.end(NO_COMPLETION);
            }
        }
        last = null;
        done.handle(null);
    }

    private void fail(Throwable cause) {
        if (finished) {
            return;
        }
        finish();
        last = null;
        done.handle(cause);
    }

    private void finish() {
        finished = true;
        // The exception handler stays: it ignores what comes after this (an ended response takes
        // no new one, and later failures of an abandoned exchange are nobody's to report).
        source.handler(null);
        source.endHandler(null);
        target.drainHandler(null);
    }
}
