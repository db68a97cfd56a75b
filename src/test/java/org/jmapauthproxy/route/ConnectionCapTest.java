package org.jmapauthproxy.route;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.PoolHolder;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RawHttp;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code authproxy.http.max-connections}: one connection more than the cap is answered 503 and closed. */
@QuarkusTest
@TestProfile(ConnectionCapTest.FiveConnections.class)
@WithTestResource(RealServers.class)
@Timeout(120)
class ConnectionCapTest {

    public static class FiveConnections implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("authproxy.http.max-connections", "5");
        }
    }

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @Test
    void connectionPastTheCapGets503AndTheProxyRecoversWhenOneCloses() throws Exception {
        String token = new Sessions(redis).create(Sessions.newSid(), "alice:pw");
        List<RawHttp> held = new ArrayList<>();
        try {
            for (int i = 0; i < 5; i++) {
                RawHttp connection = new RawHttp(base.getPort());
                held.add(connection);
                // One answered request proves the proxy has taken the connection in (accepting is
                // asynchronous); then a head under way holds it for the header deadline (20 s).
                connection.send("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
                assertEquals(200, connection.read().status());
                connection.send("GET /echo HTTP/1.1\r\n");
            }
            try (RawHttp extra = new RawHttp(base.getPort())) {
                RawHttp.Response refused = extra.read();
                FrontDoorTest.assertProblem(refused, 503, "too_many_connections");
                assertEquals("5", refused.first("retry-after"));
                assertTrue(extra.closedByServer(15_000));
            }
            held.remove(0).close();
            int status = PoolHolder.eventually(() -> {
                try (RawHttp again = new RawHttp(base.getPort())) {
                    again.send("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n\r\n");
                    return again.read().status();
                }
            }, 200);
            assertEquals(200, status);
        } finally {
            for (RawHttp connection : held) {
                connection.close();
            }
        }
    }
}
