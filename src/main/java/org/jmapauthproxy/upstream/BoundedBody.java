package org.jmapauthproxy.upstream;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A client's request body on its way to the origin. Up to a number of bytes it is the body itself;
 * the chunk that would pass the limit is not delivered, the stream never ends, and
 * {@code exceeded} runs once (it resets the origin exchange, so the origin never takes a cut body
 * for a whole one). Each chunk passed on, and the body's end, runs {@code progress} first (the
 * origin's first-byte deadline counts from the last of them).
 */
final class BoundedBody implements ReadStream<Buffer> {

    private final ReadStream<Buffer> body;
    private final long limit;
    private final Runnable exceeded;
    private final Runnable progress;
    private long received;
    private boolean over;

    BoundedBody(ReadStream<Buffer> body, long limit, Runnable exceeded, Runnable progress) {
        this.body = body;
        this.limit = limit;
        this.exceeded = exceeded;
        this.progress = progress;
    }

    @Override
    public ReadStream<Buffer> handler(Handler<Buffer> handler) {
        if (handler == null) {
            body.handler(null);
            return this;
        }
        body.handler(chunk -> {
            if (over) {
                return;
            }
            received += chunk.length();
            if (received > limit) {
                over = true;
                exceeded.run();
                return;
            }
            progress.run();
            handler.handle(chunk);
        });
        return this;
    }

    @Override
    public ReadStream<Buffer> endHandler(Handler<Void> handler) {
        body.endHandler(handler == null ? null : v -> {
            if (!over) {
                progress.run();
                handler.handle(v);
            }
        });
        return this;
    }

    @Override
    public ReadStream<Buffer> exceptionHandler(Handler<Throwable> handler) {
        body.exceptionHandler(handler);
        return this;
    }

    @Override
    public ReadStream<Buffer> pause() {
        body.pause();
        return this;
    }

    @Override
    public ReadStream<Buffer> resume() {
        body.resume();
        return this;
    }

    @Override
    public ReadStream<Buffer> fetch(long amount) {
        body.fetch(amount);
        return this;
    }
}
