package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisReplicas;
import io.vertx.redis.client.RedisRole;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Where the invalidation feed listens: every master of the store's Redis, found the way the store's
 * client finds it, and reached with the store's own settings (endpoints, user and password, TLS).
 * Standalone: the one configured server. Sentinel: the master the Sentinels name now
 * ({@code SENTINEL GET-MASTER-ADDR-BY-NAME}), the name the store's client also follows. Cluster:
 * the masters of {@code CLUSTER SLOTS}, read through the store's client, with the slot ranges each
 * serves. {@link RedisInvalidations} asks again every heartbeat: any difference (a failover, a slot
 * moved, a node added) is a change of topology.
 */
final class RedisMasters {

    /**
     * The masters by address ({@code host:port}, never credentials), sorted, and for Cluster the slot
     * ranges with the address serving each ({@code "0-5460 127.0.0.1:7000"}), sorted.
     */
    record Topology(List<String> masters, List<String> slots) {

        @Override
        public String toString() {
            return slots.isEmpty() ? String.join(", ", masters)
                    : String.join(", ", masters) + " (" + slots.size() + " slot ranges)";
        }
    }

    private final RedisOptions options;
    private final Redis store;
    private final URI template;
    /** The Sentinels, asked for the master; {@code null} in the other topologies. */
    private final Redis sentinels;

    /**
     * @param storeOptions the options the store's client was created with (they are copied, not changed)
     * @param store        the store's client, through which {@code CLUSTER SLOTS} is read
     */
    RedisMasters(Vertx vertx, RedisOptions storeOptions, Redis store) {
        this.options = copy(storeOptions);
        this.store = store;
        this.template = URI.create(options.getEndpoint());
        if (options.getType() == RedisClientType.SENTINEL) {
            sentinels = Redis.createClient(vertx, copy(options).setRole(RedisRole.SENTINEL)
                    .setPreferredProtocolVersion(ProtocolVersion.RESP2).setMaxPoolSize(1).setMaxPoolWaiting(16));
        } else {
            sentinels = null;
        }
    }

    /**
     * Why the feed cannot vouch for what the store reads with these options, if it cannot: the store
     * reads replicas (their copy lags behind the master's invalidations) or a topology the feed does
     * not follow.
     */
    static Optional<String> unsupported(RedisOptions storeOptions) {
        RedisClientType type = storeOptions.getType();
        if (type == RedisClientType.SENTINEL && storeOptions.getRole() != RedisRole.MASTER) {
            return Optional.of("sessions are read from Sentinel role " + storeOptions.getRole()
                    + ", not from the master whose invalidations the feed receives");
        }
        if (type == RedisClientType.CLUSTER && storeOptions.getUseReplicas() != RedisReplicas.NEVER) {
            return Optional.of("sessions may be read from Cluster replicas (" + storeOptions.getUseReplicas()
                    + "), whose copy lags behind the masters' invalidations");
        }
        if (type != RedisClientType.STANDALONE && type != RedisClientType.SENTINEL && type != RedisClientType.CLUSTER) {
            return Optional.of("the feed does not follow the " + type + " topology");
        }
        return Optional.empty();
    }

    /** Whether the topology is the configuration itself (standalone), so that there is nothing to ask. */
    boolean fixed() {
        return options.getType() == RedisClientType.STANDALONE;
    }

    /** The masters now, as the Sentinels or the Cluster say. */
    Future<Topology> current() {
        return switch (options.getType()) {
            case SENTINEL -> sentinels.send(Request.cmd(Command.SENTINEL).arg("GET-MASTER-ADDR-BY-NAME")
                    .arg(options.getMasterName())).compose(this::master);
            case CLUSTER -> store.send(Request.cmd(Command.CLUSTER).arg("SLOTS")).map(this::cluster);
            default -> Future.succeededFuture(new Topology(List.of(template.getHost() == null ? template.getPath()
                    : address(template.getHost(), template.getPort() == -1 ? 6379 : template.getPort())), List.of()));
        };
    }

    private Future<Topology> master(Response answer) {
        if (answer == null || answer.size() < 2) {
            return Future.failedFuture("the Sentinels name no master " + options.getMasterName());
        }
        return Future.succeededFuture(new Topology(
                List.of(address(answer.get(0).toString(), answer.get(1).toInteger())), List.of()));
    }

    private Topology cluster(Response slots) {
        TreeSet<String> masters = new TreeSet<>();
        TreeSet<String> ranges = new TreeSet<>();
        for (Response range : slots) {
            // start, end, then the master (host, port, id...) and its replicas
            Response master = range.get(2);
            String address = address(master.get(0) == null ? "" : master.get(0).toString(), master.get(1).toInteger());
            masters.add(address);
            ranges.add(range.get(0).toInteger() + "-" + range.get(1).toInteger() + " " + address);
        }
        return new Topology(List.copyOf(masters), List.copyOf(ranges));
    }

    /**
     * The options of one feed connection to the master at {@code address}: the store's, with the
     * configured endpoint's scheme, user, password and database around the master's host and port
     * (as the Vert.x client builds the endpoints it learns from Sentinels and Cluster nodes), one
     * connection, RESP2 (see {@link TrackingConnection}).
     */
    RedisOptions feedOptions(String address) {
        String endpoint = fixed() ? options.getEndpoint()
                : template.getScheme() + "://" + (template.getRawUserInfo() == null ? "" : template.getRawUserInfo() + "@")
                + address + (template.getRawPath() == null ? "" : template.getRawPath())
                + (template.getRawQuery() == null ? "" : "?" + template.getRawQuery());
        RedisOptions feed = copy(options).setType(RedisClientType.STANDALONE)
                .setEndpoints(new ArrayList<>(List.of(endpoint)))
                .setPreferredProtocolVersion(ProtocolVersion.RESP2)
                .setMaxPoolSize(1)
                .setMaxPoolWaiting(16)
                .setMaxWaitingHandlers(16)
                .setPoolName("invalidation-feed");
        feed.getNetClientOptions().setMetricsName("redis|invalidation-feed");
        return feed;
    }

    /** The store's options, with lists and network options of its own (the copy constructor shares them). */
    private static RedisOptions copy(RedisOptions options) {
        return new RedisOptions(options).setEndpoints(new ArrayList<>(options.getEndpoints()))
                .setNetClientOptions(new NetClientOptions(options.getNetClientOptions()));
    }

    /** {@code host:port}, an IPv6 host in brackets; an empty host (Redis 7: "the node asked") is the configured one. */
    private String address(String host, int port) {
        String name = host.isEmpty() ? template.getHost() : host;
        return (name.contains(":") && !name.startsWith("[") ? "[" + name + "]" : name) + ":" + port;
    }

    void close() {
        if (sentinels != null) {
            sentinels.close();
        }
    }
}
