package org.jmapauthproxy.ops;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jmapauthproxy.upstream.Origin;

/**
 * Ready only while a TCP connection to the origin can be opened (switch off with
 * {@code authproxy.origin.readiness-check=false}, e.g. when the origin sits behind its own balancer).
 * It opens and closes a connection without sending a request, so the origin logs nothing.
 */
@Readiness
@ApplicationScoped
public class OriginReadiness implements AsyncHealthCheck {

    private final Origin origin;
    private final boolean enabled;
    private final NetClient client;

    OriginReadiness(Origin origin, Vertx vertx,
                    @ConfigProperty(name = "authproxy.origin.readiness-check", defaultValue = "true") boolean enabled) {
        this.origin = origin;
        this.enabled = enabled;
        this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout(1000));
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        if (!enabled) {
            return Uni.createFrom().item(HealthCheckResponse.named("origin").up().withData("checked", false).build());
        }
        return Uni.createFrom().completionStage(() -> client.connect(origin.port(), origin.host()).toCompletionStage())
                .onItem().transform(socket -> {
                    socket.close();
                    return HealthCheckResponse.up("origin");
                })
                .onFailure().recoverWithItem(e -> HealthCheckResponse.named("origin").down()
                        .withData("address", address())
                        .withData("error", why(e)).build());
    }

    private String address() {
        return origin.host() + ":" + origin.port();
    }

    /** What an operator needs to act: what happened at which address, not an exception class. */
    private String why(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.net.ConnectException && !(t instanceof io.netty.channel.ConnectTimeoutException)) {
                return "connection refused by " + address();
            }
            if (t instanceof io.netty.channel.ConnectTimeoutException) {
                return "no answer from " + address() + " within 1000 ms";
            }
            if (t instanceof java.net.UnknownHostException) {
                return "unknown host " + origin.host();
            }
        }
        return "cannot connect to " + address();
    }

    @PreDestroy
    void close() {
        client.close();
    }
}
