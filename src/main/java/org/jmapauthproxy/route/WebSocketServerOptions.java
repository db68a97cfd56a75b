package org.jmapauthproxy.route;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import jakarta.enterprise.context.ApplicationScoped;
import org.jmapauthproxy.upstream.Origin;

import java.util.List;

/**
 * Lets the main HTTP server accept JMAP WebSocket upgrades: offers the {@code jmap} subprotocol
 * (RFC 8887 §3) and the same frame and message limits as the origin side.
 */
@ApplicationScoped
public class WebSocketServerOptions implements HttpServerOptionsCustomizer {

    @Override
    public void customizeHttpServer(HttpServerOptions options) {
        options.setWebSocketSubProtocols(List.of("jmap"))
                .setMaxWebSocketFrameSize(Origin.MAX_WEBSOCKET_FRAME)
                .setMaxWebSocketMessageSize(Origin.MAX_WEBSOCKET_MESSAGE);
    }
}
