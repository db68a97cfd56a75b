package org.jmapauthproxy.exchange;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Exchange} on a real Vert.x HTTP server on loopback, driven over a raw socket: the order its
 * handlers run in, that the end handlers run once however the exchange ends, and that a failure
 * reaches the failure handler.
 */
class ExchangeTest {

    private static Vertx vertx;
    /** What the failure handler does after recording the failure (set by a test; answers 502 when null). */
    private static volatile Consumer<Exchange> onFailure;
    private static HttpServer server;
    /** What the next request does with its exchange (set by each test before it connects). */
    private static volatile Consumer<Exchange> behaviour;
    private static final List<String> events = new CopyOnWriteArrayList<>();
    private static final BlockingQueue<Exchange> failed = new LinkedBlockingQueue<>();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        server = vertx.createHttpServer().requestHandler(ExchangeTest::serve).listen(0, "127.0.0.1")
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static void serve(HttpServerRequest request) {
        Exchange exchange = new Exchange(request, new RequestState("test", System.nanoTime()), ex -> {
            events.add("failed");
            failed.add(ex);
            if (onFailure != null) {
                onFailure.accept(ex);
                return;
            }
            ex.response().setStatusCode(502).end();
        });
        behaviour.accept(exchange);
    }

    private static void record(Exchange exchange) {
        exchange.onHeadersEnd(() -> {
            events.add("head 1");
            exchange.response().putHeader("X-First", "ran last");
        });
        exchange.onHeadersEnd(() -> events.add("head 2"));
        exchange.onClose(() -> events.add("close"));
        exchange.onEnd(() -> events.add("end 1"));
        exchange.onEnd(() -> events.add("end 2"));
    }

    private static String exchange(String request) throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
            socket.setSoTimeout(10_000);
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            StringBuilder answer = new StringBuilder();
            byte[] buffer = new byte[4096];
            while (!answer.toString().endsWith("done")) {
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                answer.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
            }
            return answer.toString();
        }
    }

    private static void awaitEvents(int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (events.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    @Test
    void headHandlersRunBeforeTheHeadAndEndHandlersOnceAfterTheEndInReverseOrder() throws Exception {
        events.clear();
        behaviour = exchange -> {
            record(exchange);
            exchange.response().end("done");
        };
        String answer = exchange("GET / HTTP/1.1\r\nHost: test\r\n\r\n");

        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        // A head handler can still change the head: the first registered ran last, after "head 2".
        assertTrue(answer.contains("X-First: ran last") || answer.contains("x-first: ran last"), answer);
        awaitEvents(4);
        // The socket has closed since: an exchange that was over is not reported again.
        Thread.sleep(100);
        assertEquals(List.of("head 2", "head 1", "end 2", "end 1"), events);
    }

    @Test
    void aClientLeavingBeforeTheResponseRunsTheEndHandlersOnceThenTheCloseHandlers() throws Exception {
        events.clear();
        CompletableFuture<Void> arrived = new CompletableFuture<>();
        behaviour = exchange -> {
            record(exchange);
            arrived.complete(null);
            // No response: the client leaves first.
        };
        try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
            socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            arrived.get(10, TimeUnit.SECONDS);
        }
        awaitEvents(3);
        Thread.sleep(100); // room for a second run of the end handlers, were there one
        // Vert.x reports the cut response as failed before it reports the connection closed.
        assertEquals(List.of("end 2", "end 1", "close"), events);
    }

    @Test
    void aFailureReachesTheFailureHandlerWithItsCause() throws Exception {
        events.clear();
        failed.clear();
        onFailure = null;
        IllegalStateException cause = new IllegalStateException("broken");
        behaviour = exchange -> {
            record(exchange);
            exchange.fail(cause);
        };
        String answer = exchange("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");

        assertTrue(answer.startsWith("HTTP/1.1 502"), answer);
        Exchange exchange = failed.poll(10, TimeUnit.SECONDS);
        assertNotNull(exchange);
        assertSame(cause, exchange.failure());
        awaitEvents(5);
        assertEquals(List.of("failed", "head 2", "head 1", "end 2", "end 1"), events);
    }

    /** Reads everything until the server closes the connection. */
    private static String untilClosed(Socket socket) throws Exception {
        socket.setSoTimeout(20_000);
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void cuttingAnExchangeWhoseHeadIsOutClosesTheConnectionAndRunsCloseAndEndHandlersOnce() throws Exception {
        events.clear();
        behaviour = exchange -> {
            record(exchange);
            exchange.response().setChunked(true).write("part");
            // Vert.x reports nothing for a response it is told to reset; the exchange must.
            vertx.setTimer(1, id -> exchange.cut());
        };
        String answer;
        try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
            socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            answer = untilClosed(socket);
        }
        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
        assertTrue(answer.contains("part"), answer);
        assertTrue(!answer.endsWith("0\r\n\r\n"), "a cut body must not end like a whole one: " + answer);
        awaitEvents(5);
        Thread.sleep(100); // room for a second run, were there one
        assertEquals(List.of("head 2", "head 1", "close", "end 2", "end 1"), events);
    }

    @Test
    void anEndHandlerAddedAfterTheEndRunsAtOnce() throws Exception {
        events.clear();
        CompletableFuture<Exchange> done = new CompletableFuture<>();
        behaviour = exchange -> {
            exchange.onEnd(() -> events.add("end"));
            exchange.response().end("done").onComplete(v -> done.complete(exchange));
        };
        exchange("GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        Exchange ended = done.get(10, TimeUnit.SECONDS);
        awaitEvents(1);
        vertx.runOnContext(v -> ended.onEnd(() -> events.add("late")));
        awaitEvents(2);
        assertEquals(List.of("end", "late"), events);
    }

    @Test
    void aFailureHandlerThatThrowsCutsTheExchange() throws Exception {
        events.clear();
        failed.clear();
        onFailure = exchange -> {
            exchange.response().setChunked(true).write("half");
            throw new IllegalStateException("the failure handler broke");
        };
        try {
            behaviour = exchange -> {
                record(exchange);
                exchange.fail(new IllegalArgumentException("first"));
            };
            String answer;
            try (Socket socket = new Socket("127.0.0.1", server.actualPort())) {
                socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: test\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                answer = untilClosed(socket);
            }
            assertTrue(answer.contains("half") && !answer.endsWith("0\r\n\r\n"), answer);
            awaitEvents(6);
            assertEquals(List.of("failed", "head 2", "head 1", "close", "end 2", "end 1"), events);
        } finally {
            onFailure = null;
        }
    }
}
