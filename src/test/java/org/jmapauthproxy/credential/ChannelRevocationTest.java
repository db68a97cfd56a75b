package org.jmapauthproxy.credential;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URL;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Open channels of a session end within the revocation bound when the session is deleted or
 * changed, and another session's channels stay open. The bound is 1 s; the assertions allow
 * {@link #SLACK_MILLIS} more for a loaded machine to deliver the end.
 */
@QuarkusTest
@WithTestResource(RealServers.class)
@Timeout(120)
class ChannelRevocationTest {

    static final int BOUND_MILLIS = 1_000;
    static final int SLACK_MILLIS = 700;

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    final Vertx vertx = Vertx.vertx();

    @AfterEach
    void closeVertx() {
        vertx.close();
    }

    RawHttp eventStream(String token) throws Exception {
        RawHttp http = new RawHttp(base.getPort());
        http.send("GET /jmap/eventsource/?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: 127.0.0.1:" + base.getPort()
                + "\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + token + "\r\n\r\n");
        assertEquals(200, http.readHead().status());
        RawHttp.Stream first = http.readStreamUntilEnd(300);
        assertTrue(first.text().contains("event: hello"), first.text());
        assertFalse(first.ended());
        return http;
    }

    @Test
    void deletedSessionsEventStreamEndsWithinTheBoundAndAnotherUsersStaysOpen() throws Exception {
        Sessions sessions = new Sessions(redis);
        String sidA = Sessions.newSid();
        String sidB = Sessions.newSid();
        try (RawHttp a = eventStream(sessions.create(sidA, "alice:pw"));
             RawHttp b = eventStream(sessions.create(sidB, "bob:pw"))) {
            long deleted = System.nanoTime();
            sessions.delete(sidA);
            RawHttp.Stream rest = a.readStreamUntilEnd(BOUND_MILLIS + SLACK_MILLIS);
            assertTrue(rest.ended(), "the deleted session's stream still open after "
                    + (System.nanoTime() - deleted) / 1_000_000 + " ms");
            RawHttp.Stream other = b.readStreamUntilEnd(400);
            assertFalse(other.ended(), "another user's stream was ended");
            assertTrue(other.text().contains("event: state"), "another user's stream stopped flowing");
        }
    }

    @Test
    void changedSessionsEventStreamEnds() throws Exception {
        Sessions sessions = new Sessions(redis);
        String sid = Sessions.newSid();
        try (RawHttp a = eventStream(sessions.create(sid, "alice:pw"))) {
            // Re-sealed for another user: the stream authorised as alice must not go on.
            sessions.create(sid, "mallory:pw");
            assertTrue(a.readStreamUntilEnd(BOUND_MILLIS + SLACK_MILLIS).ended());
        }
    }

    @Test
    void deletedSessionsWebSocketIsClosedWith1008() throws Exception {
        Sessions sessions = new Sessions(redis);
        String sid = Sessions.newSid();
        String token = sessions.create(sid, "alice:pw");
        WebSocket socket = vertx.createWebSocketClient(new WebSocketClientOptions())
                .connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(base.getPort()).setURI("/jmap/ws/")
                        .addSubProtocol("jmap").addHeader("Authorization", "Bearer " + token))
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        CompletableFuture<Short> closed = new CompletableFuture<>();
        CompletableFuture<String> reason = new CompletableFuture<>();
        socket.closeHandler(v -> {
            reason.complete(socket.closeReason());
            closed.complete(socket.closeStatusCode());
        });
        sessions.delete(sid);
        assertEquals((short) 1008, closed.get(BOUND_MILLIS + SLACK_MILLIS, TimeUnit.MILLISECONDS));
        assertEquals("session revoked", reason.get());
    }
}
