package org.jmapauthproxy.ops;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;
import org.jmapauthproxy.credential.CredentialStore;

import java.time.Duration;

/**
 * Ready only while the session store answers a PING quickly: without it every request would fail.
 * A liveness check would be wrong here, since restarting the proxy does not bring Redis back.
 */
@Readiness
@ApplicationScoped
public class StoreReadiness implements AsyncHealthCheck {

    static final Duration TIMEOUT = Duration.ofSeconds(1);

    @Inject
    CredentialStore store;

    @Override
    public Uni<HealthCheckResponse> call() {
        return Uni.createFrom().completionStage(() -> store.ping().toCompletionStage())
                .ifNoItem().after(TIMEOUT).fail()
                .onItem().transform(v -> HealthCheckResponse.up("session-store"))
                .onFailure().recoverWithItem(e -> HealthCheckResponse.named("session-store").down()
                        .withData("error", e.getClass().getSimpleName()).build());
    }
}
