package org.jmapauthproxy.ops;

import io.quarkus.arc.profile.IfBuildProfile;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import redis.embedded.RedisServer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;

/**
 * Dev mode only: gives {@code ./mvnw quarkus:dev} a real Redis where no Docker engine is available.
 * When {@code quarkus.redis.hosts} points at loopback and nothing listens there, the redis-server
 * binary shipped in {@code com.github.codemonstur:embedded-redis} is started on that port.
 *
 * <p>Live reload restarts the application but not the JVM, so the server is left running across
 * reloads (the next start finds the port taken and reuses it) and stopped by a JVM shutdown hook.
 */
@ApplicationScoped
@IfBuildProfile("dev")
public class DevRedis {

    private static final Logger LOG = Logger.getLogger(DevRedis.class);

    private boolean started;

    /** At start-up, before anything else connects to Redis. */
    void atStartup(@Observes @Priority(1) StartupEvent event,
                   @ConfigProperty(name = "quarkus.redis.hosts") String hosts) throws IOException {
        start(hosts);
    }

    private synchronized void start(String hosts) throws IOException {
        if (started) {
            return;
        }
        started = true;
        URI uri = URI.create(hosts.split(",")[0].trim());
        String host = uri.getHost();
        int port = uri.getPort() > 0 ? uri.getPort() : 6379;
        if (!"127.0.0.1".equals(host) && !"localhost".equals(host)) {
            return;
        }
        if (listening(port)) {
            LOG.infof("dev Redis: something already listens on 127.0.0.1:%d, using it", port);
            return;
        }
        RedisServer server = RedisServer.newRedisServer()
                .port(port)
                .bind("127.0.0.1")
                .setting("save \"\"")
                .setting("appendonly no")
                .build();
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (IOException ignored) {
                // the JVM is going away; the child process dies with it
            }
        }, "dev-redis-stop"));
        LOG.infof("dev Redis: started redis-server on 127.0.0.1:%d (no persistence)", port);
    }

    private static boolean listening(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
