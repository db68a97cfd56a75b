package org.jmapauthproxy.route;

import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerOptions;
import org.jboss.logging.Logger;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The proxy port, served by Vert.x directly: one HTTP server per event loop (sharing the port, the
 * way Vert.x spreads connections over its loops), each handing every request to the
 * {@link ProxyRoute}. Quarkus's own listener wraps every request and response and runs its security
 * and context machinery, none of which the catch-all route uses; serving the port here spares that
 * work on every request. Health and metrics stay on Quarkus's management port.
 *
 * <p>Shutdown follows Quarkus's: after the drain delay, new requests get 503 ({@link InFlight}),
 * those in flight get up to the shutdown timeout, then the listeners close.
 */
public final class ProxyServer {

    private static final Logger LOG = Logger.getLogger(ProxyServer.class);

    private final Vertx vertx;
    private final ProxyRoute route;
    private final HttpServerOptions options;
    private final int eventLoops;
    private final InFlight inFlight;
    private final FrontDoor frontDoor;
    private final List<String> deployments = new CopyOnWriteArrayList<>();
    private volatile int port = -1;

    /** @param eventLoops how many listeners share the port, one per event loop */
    public ProxyServer(Vertx vertx, ProxyRoute route, HttpServerOptions options, int eventLoops, InFlight inFlight,
                       FrontDoor frontDoor) {
        this.vertx = vertx;
        this.frontDoor = frontDoor;
        this.route = route;
        this.options = options;
        this.eventLoops = eventLoops;
        this.inFlight = inFlight;
    }

    /** Opens the port on every event loop; throws when it cannot be bound. */
    public void start() throws Exception {
        AtomicInteger bound = new AtomicInteger(-1);
        // Vert.x shares one listening socket among servers asking for the same port; for a random
        // port (0, the tests) that sharing is asked for with a negative port.
        int listenPort = options.getPort() == 0 ? -1 : options.getPort();
        await(deploy(listenPort, eventLoops, bound));
        port = bound.get();
        LOG.infof("proxy listening on http://%s:%d (%d event loop%s)", options.getHost(), port, eventLoops,
                eventLoops == 1 ? "" : "s");
    }

    private Future<String> deploy(int listenPort, int instances, AtomicInteger bound) {
        HttpServerOptions listenOptions = new HttpServerOptions(options).setPort(listenPort);
        return vertx.deployVerticle(() -> new Listener(route, frontDoor, listenOptions, bound),
                        new DeploymentOptions().setInstances(instances))
                .onSuccess(deployments::add);
    }

    /** The port actually bound (differs from the configured one when that is 0). */
    public int port() {
        return port;
    }

    /** From now on new requests get 503 (and their connection is closed after it). */
    public void refuseNewRequests() {
        inFlight.close();
    }

    /**
     * Refuses new requests, waits up to {@code timeoutMillis} for those in flight, then closes the
     * listeners (and with them the idle keep-alive connections).
     */
    public void drain(long timeoutMillis) {
        inFlight.close();
        if (!inFlight.awaitIdle(timeoutMillis)) {
            LOG.warnf("shutdown: %d request(s) still in flight after %d ms; closing", inFlight.count(), timeoutMillis);
        }
        close();
    }

    /** Closes the listeners now. */
    public void close() {
        for (String id : deployments) {
            try {
                await(vertx.undeploy(id));
            } catch (Exception e) {
                LOG.debugf("closing the proxy listener: %s", e.toString());
            }
        }
        deployments.clear();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    /** One event loop's server. */
    private static final class Listener extends AbstractVerticle {
        private final ProxyRoute route;
        private final FrontDoor frontDoor;
        private final HttpServerOptions options;
        private final AtomicInteger bound;

        Listener(ProxyRoute route, FrontDoor frontDoor, HttpServerOptions options, AtomicInteger bound) {
            this.route = route;
            this.frontDoor = frontDoor;
            this.options = options;
            this.bound = bound;
        }

        @Override
        public void start(Promise<Void> started) {
            vertx.createHttpServer(options).connectionHandler(frontDoor::install).requestHandler(route::handle).listen()
                    .onSuccess(server -> {
                        bound.set(server.actualPort());
                        started.complete();
                    })
                    .onFailure(started::fail);
        }
    }
}
