package org.jmapauthproxy.support;

import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.JsonObject;

/**
 * WebSocket side of the test origin (RFC 8887 shape): the first text message answers with what the
 * handshake carried (authorization, cookie, subprotocol); later messages are echoed back unchanged.
 */
final class TestWebSocketOrigin {

    void handle(ServerWebSocket socket) {
        if (!socket.path().startsWith("/jmap/ws")) {
            socket.reject(404);
            return;
        }
        String authorization = socket.headers().get("Authorization");
        String cookie = socket.headers().get("Cookie");
        boolean[] first = {true};
        socket.textMessageHandler(text -> {
            if (first[0] && "whoami".equals(text)) {
                first[0] = false;
                socket.writeTextMessage(new JsonObject()
                        .put("authorization", authorization)
                        .put("cookie", cookie)
                        .put("subprotocol", socket.subProtocol())
                        .encode());
            } else {
                socket.writeTextMessage(text);
            }
        });
        socket.binaryMessageHandler(socket::writeBinaryMessage);
    }
}
