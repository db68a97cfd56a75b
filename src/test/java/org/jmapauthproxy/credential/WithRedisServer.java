package org.jmapauthproxy.credential;

import io.vertx.core.Vertx;
import org.jmapauthproxy.support.RealServers;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import redis.embedded.RedisServer;

import java.util.concurrent.TimeUnit;

/**
 * Cases that each get a redis-server process of their own (the binary shipped in embedded-redis) on
 * a free loopback port, and a Vert.x for the clients they make; both are stopped after the case.
 */
abstract class WithRedisServer {

    RedisServer server;
    int port;
    Vertx vertx;

    @BeforeEach
    void startRedis() throws Exception {
        port = RealServers.freePort();
        server = RealServers.redisServer(port);
        server.start();
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stopRedis() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        if (server.isActive()) {
            server.stop();
        }
    }
}
