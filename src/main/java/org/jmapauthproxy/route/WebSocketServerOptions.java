package org.jmapauthproxy.route;

import io.vertx.core.http.HttpServerOptions;
import org.jmapauthproxy.upstream.Origin;

import java.util.List;

/**
 * Tunes the proxy port's HTTP server for relaying: accepts JMAP WebSocket upgrades (offers the {@code jmap}
 * subprotocol, RFC 8887 §3, with the same frame and message limits as the origin side) and reads
 * request bodies in the same chunk size as the origin client.
 */
public final class WebSocketServerOptions {

    private WebSocketServerOptions() {
    }

    /** Applies the tuning to the options of a {@link ProxyServer} listener. */
    public static void apply(HttpServerOptions options) {
        // Same chunk size as towards the origin, so an upload is relayed in 64 KiB writes.
        options.setMaxChunkSize(Origin.MAX_CHUNK);
        options.setWebSocketSubProtocols(List.of("jmap"))
                .setMaxWebSocketFrameSize(Origin.MAX_WEBSOCKET_FRAME)
                .setMaxWebSocketMessageSize(Origin.MAX_WEBSOCKET_MESSAGE);
    }
}
