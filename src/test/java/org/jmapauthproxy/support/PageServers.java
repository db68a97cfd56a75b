package org.jmapauthproxy.support;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;

import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Two static web servers on loopback for the CORS tests, each its own origin: one listed in
 * {@code authproxy.cors.allowed-origins} (with {@code https://app.example}, for raw-HTTP tests), one
 * not. Each serves the page a test puts in {@link #allowedPage} / {@link #otherPage} at {@code /}.
 */
public final class PageServers implements QuarkusTestResourceLifecycleManager {

    public static final String RAW_ALLOWED = "https://app.example";

    public static volatile String allowedPage = "";
    public static volatile String otherPage = "";
    public static volatile int allowedPort;
    public static volatile int otherPort;

    private Vertx vertx;

    @Override
    public Map<String, String> start() {
        vertx = Vertx.vertx();
        try {
            allowedPort = serve(true);
            otherPort = serve(false);
        } catch (Exception e) {
            vertx.close();
            throw new IllegalStateException("cannot start the page servers", e);
        }
        return Map.of("authproxy.cors.allowed-origins", RAW_ALLOWED + ",http://127.0.0.1:" + allowedPort,
                "authproxy.cors.max-age", "5m");
    }

    private int serve(boolean allowed) throws Exception {
        HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
                .requestHandler(request -> {
                    if (!"/".equals(request.path())) {
                        request.response().setStatusCode(404).end();
                        return;
                    }
                    request.response().putHeader("Content-Type", "text/html; charset=utf-8")
                            .putHeader("Cache-Control", "no-store")
                            .end(allowed ? allowedPage : otherPage);
                })
                .listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return server.actualPort();
    }

    @Override
    public void stop() {
        if (vertx != null) {
            vertx.close();
        }
    }
}
