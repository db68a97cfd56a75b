package org.jmapauthproxy.upstream;

import io.vertx.core.AsyncResult;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpServerResponse;

/**
 * The origin's response body on its way to the client: each chunk written as it arrives, the
 * origin's connection paused while the client's write queue is full and resumed when it drains.
 *
 * <p>This is what a Vert.x pipe does, less two costs it pays on every request: a promise and a
 * Netty listener for each write, and a separate write for the end. Writes here carry no completion
 * handler (a client that goes away is seen by the exchange's close handler, which resets the origin
 * exchange), and the last chunk of a body whose length is declared is held until the end, which
 * the decoder delivers right after it, so that it goes out with the end in one write: a small
 * response leaves as one message, its head and body together.
 */
final class BodyRelay implements Handler<Buffer> {

    private static final Handler<AsyncResult<Void>> NO_COMPLETION = null;

    private final HttpClientResponse source;
    private final HttpServerResponse target;
    private final long declaredLength;
    private final Handler<Throwable> done;
    private long relayed;
    private Buffer last;
    private boolean finished;

    private BodyRelay(HttpClientResponse source, HttpServerResponse target, long declaredLength,
                      Handler<Throwable> done) {
        this.source = source;
        this.target = target;
        this.declaredLength = declaredLength;
        this.done = done;
    }

    /**
     * Starts relaying; {@code done} runs once, with {@code null} when the body has been handed to the
     * client whole (its end written), or with the origin's failure, in which case the client's
     * response is left unended (the caller decides how it ends).
     *
     * @param declaredLength the body's length as the client's response head declares it, or -1
     */
    static void start(HttpClientResponse source, HttpServerResponse target, long declaredLength,
                      Handler<Throwable> done) {
        BodyRelay relay = new BodyRelay(source, target, declaredLength, done);
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

    /** The declared length of a response head's body: its {@code Content-Length}, or -1. */
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
        if (!target.ended() && !target.closed()) {
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
