package org.jmapauthproxy.support;

import redis.embedded.RedisInstance;
import redis.embedded.RedisSentinel;
import redis.embedded.RedisServer;
import redis.embedded.core.RedisServerBuilder;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Redis Sentinel and Redis Cluster made of real processes on loopback, on free ports: the
 * redis-server binary shipped in embedded-redis (6.2), which also runs as a Sentinel and in
 * cluster mode. Nothing is kept on disk beyond a temporary directory per set-up.
 */
public final class RedisTopologies {

    /** How long a set-up step (replication, gossip, a forced failover) may take on a loaded machine. */
    static final long SETUP_NANOS = TimeUnit.SECONDS.toNanos(60);

    private RedisTopologies() {
    }

    /** A condition polled by {@link #await}. */
    public interface Check {
        boolean holds() throws Exception;
    }

    /** Polls {@code condition} until it holds; fails after {@code nanos}. */
    public static void await(Check condition, long nanos, String failure) throws Exception {
        long deadline = System.nanoTime() + nanos;
        while (!condition.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(failure + " (after " + nanos / 1_000_000 + " ms)");
            }
            Thread.sleep(10); // paces the poll; nothing waits on it
        }
    }

    private static RedisServerBuilder server(Path dir, int port) {
        return RedisServer.newRedisServer().port(port).bind("127.0.0.1")
                .setting("save \"\"").setting("appendonly no").setting("dir " + dir);
    }

    /** A free loopback port whose cluster bus port (port + 10000, fixed in Redis 6) is free too. */
    static int freeClusterPort() throws IOException {
        while (true) {
            int port = RealServers.freePort();
            if (port + 10_000 > 65_535) {
                continue;
            }
            try (ServerSocket bus = new ServerSocket(port + 10_000, 1, InetAddress.getLoopbackAddress())) {
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
    }

    /** Stops the processes, then removes what they wrote. */
    private static void stopAll(List<RedisInstance> processes, Path dir) {
        for (RedisInstance process : processes) {
            try {
                process.stop();
            } catch (IOException ignored) {
                // best effort at the end of a test
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        } catch (IOException ignored) {
            // best effort at the end of a test
        }
    }

    private static String info(int port, String section) throws IOException {
        return (String) RedisCommands.call(port, "INFO", section);
    }

    /**
     * A master, optionally one replica, and one Sentinel monitoring them as {@link #MASTER} with a
     * quorum of 1 (a failover is only ever forced by the test: {@code down-after} is a minute).
     */
    public static final class Sentinel implements AutoCloseable {

        public static final String MASTER = "mymaster";

        private final List<RedisInstance> processes = new ArrayList<>();
        private final Path dir;
        private final int firstMaster;
        private final int replica;
        private final int sentinel;

        private Sentinel(Path dir, boolean withReplica) throws IOException {
            this.dir = dir;
            this.firstMaster = RealServers.freePort();
            this.replica = withReplica ? RealServers.freePort() : -1;
            this.sentinel = RealServers.freePort();
        }

        /** Starts the processes and waits until the Sentinel knows the replica as a good one. */
        public static Sentinel start(boolean withReplica) throws Exception {
            Path dir = Files.createTempDirectory("redis-sentinel");
            Sentinel set = new Sentinel(dir, withReplica);
            try {
                set.startProcess(server(dir, set.firstMaster).build());
                if (withReplica) {
                    set.startProcess(server(dir, set.replica).slaveOf("127.0.0.1", set.firstMaster).build());
                    await(() -> info(set.replica, "replication").contains("master_link_status:up"), SETUP_NANOS,
                            "the replica never synchronised");
                }
                set.startProcess(RedisSentinel.newRedisSentinel().bind("127.0.0.1").port(set.sentinel)
                        .masterPort(set.firstMaster).masterName(MASTER).quorumSize(1)
                        .downAfterMilliseconds(60_000).failOverTimeout(10_000).build());
                if (withReplica) {
                    await(set::replicaKnown, SETUP_NANOS, "the Sentinel never saw the replica");
                }
                return set;
            } catch (Exception | AssertionError e) {
                set.close();
                throw e;
            }
        }

        private void startProcess(RedisInstance process) throws IOException {
            processes.add(process);
            process.start();
        }

        private boolean replicaKnown() throws IOException {
            for (Object entry : (List<?>) RedisCommands.call(sentinel, "SENTINEL", "REPLICAS", MASTER)) {
                List<?> fields = (List<?>) entry;
                int port = Integer.parseInt((String) fields.get(fields.indexOf("port") + 1));
                String flags = (String) fields.get(fields.indexOf("flags") + 1);
                if (port == replica && flags.equals("slave")) {
                    return true;
                }
            }
            return false;
        }

        public int sentinelPort() {
            return sentinel;
        }

        /** The master's port as the Sentinel names it now. */
        public int masterPort() throws IOException {
            List<?> address = (List<?>) RedisCommands.call(sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MASTER);
            return Integer.parseInt((String) address.get(1));
        }

        /**
         * Forces a failover to the replica ({@code SENTINEL FAILOVER}, which needs no quorum) and
         * returns once the Sentinel names the replica as the master and the replica says it is one.
         * The Sentinel refuses while its last view of the replica is older than it accepts
         * ({@code -NOGOODSLAVE}): the command is repeated until it is taken.
         */
        public void failover() throws Exception {
            await(() -> {
                try {
                    return "OK".equals(RedisCommands.call(sentinel, "SENTINEL", "FAILOVER", MASTER));
                } catch (IOException refused) {
                    if (!refused.getMessage().contains("NOGOODSLAVE")) {
                        throw refused;
                    }
                    return false;
                }
            }, SETUP_NANOS, "the Sentinel never took the failover");
            await(() -> masterPort() == replica && info(replica, "replication").contains("role:master"),
                    SETUP_NANOS, "the Sentinel never named the replica master");
        }

        public int replicaPort() {
            return replica;
        }

        @Override
        public void close() {
            stopAll(processes, dir);
        }
    }

    /** Three masters, no replicas, the 16384 slots split evenly over them in order. */
    public static final class Cluster implements AutoCloseable {

        static final int SLOTS = 16384;

        private final List<RedisInstance> processes = new ArrayList<>();
        private final int[] ports = new int[3];
        private final String[] ids = new String[3];
        private final Path dir;

        private Cluster(Path dir) {
            this.dir = dir;
        }

        /** Starts the nodes, joins them, assigns the slots and waits until every node sees the same full cluster. */
        public static Cluster start() throws Exception {
            Path dir = Files.createTempDirectory("redis-cluster");
            Cluster cluster = new Cluster(dir);
            try {
                for (int i = 0; i < 3; i++) {
                    int port = freeClusterPort();
                    cluster.ports[i] = port;
                    RedisServer node = server(dir, port).setting("cluster-enabled yes")
                            .setting("cluster-config-file " + dir.resolve("nodes-" + port + ".conf"))
                            .setting("cluster-node-timeout 5000").build();
                    cluster.processes.add(node);
                    node.start();
                    cluster.ids[i] = (String) RedisCommands.call(port, "CLUSTER", "MYID");
                    // Distinct epochs from the start, as redis-cli --cluster create sets them.
                    RedisCommands.call(port, "CLUSTER", "SET-CONFIG-EPOCH", Integer.toString(i + 1));
                }
                List<List<String>> addSlots = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
                for (int slot = 0; slot < SLOTS; slot++) {
                    addSlots.get(firstOwner(slot)).add(Integer.toString(slot));
                }
                for (int i = 0; i < 3; i++) {
                    addSlots.get(i).addAll(0, List.of("CLUSTER", "ADDSLOTS"));
                    RedisCommands.call(cluster.ports[i], addSlots.get(i).toArray(String[]::new));
                }
                for (int i = 1; i < 3; i++) {
                    RedisCommands.call(cluster.ports[0], "CLUSTER", "MEET", "127.0.0.1", Integer.toString(cluster.ports[i]));
                }
                await(cluster::settled, SETUP_NANOS, "the cluster never settled");
                return cluster;
            } catch (Exception | AssertionError e) {
                cluster.close();
                throw e;
            }
        }

        /** Every node: state ok, three known nodes, three slot ranges. */
        private boolean settled() throws IOException {
            for (int port : ports) {
                String info = (String) RedisCommands.call(port, "CLUSTER", "INFO");
                if (!info.contains("cluster_state:ok") || !info.contains("cluster_known_nodes:3")
                        || ((List<?>) RedisCommands.call(port, "CLUSTER", "SLOTS")).size() != 3) {
                    return false;
                }
            }
            return true;
        }

        public int port(int node) {
            return ports[node];
        }

        /** The connection strings of every node, as {@code quarkus.redis.hosts} would list them. */
        public List<String> hosts() {
            List<String> hosts = new ArrayList<>();
            for (int port : ports) {
                hosts.add("redis://127.0.0.1:" + port);
            }
            return hosts;
        }

        public int slot(String key) throws IOException {
            return ((Long) RedisCommands.call(ports[0], "CLUSTER", "KEYSLOT", key)).intValue();
        }

        /** The node a slot is given to when the cluster starts: the first third, the second, the last. */
        static int firstOwner(int slot) {
            return slot < SLOTS / 3 ? 0 : slot < 2 * SLOTS / 3 ? 1 : 2;
        }

        /** A new key, under {@code prefix}, whose slot {@code node} serves as the cluster was started. */
        public String keyOn(int node, String prefix) throws IOException {
            while (true) {
                String key = prefix + UUID.randomUUID();
                if (firstOwner(slot(key)) == node) {
                    return key;
                }
            }
        }

        /**
         * Moves {@code slot} and its keys from node {@code from} to node {@code to} the way
         * {@code redis-cli --cluster reshard} does: IMPORTING on the target, MIGRATING on the source,
         * MIGRATE of each key, then SETSLOT NODE on the target, the source and the third node.
         */
        public void moveSlot(int slot, int from, int to) throws IOException {
            String s = Integer.toString(slot);
            RedisCommands.call(ports[to], "CLUSTER", "SETSLOT", s, "IMPORTING", ids[from]);
            RedisCommands.call(ports[from], "CLUSTER", "SETSLOT", s, "MIGRATING", ids[to]);
            for (Object key : (List<?>) RedisCommands.call(ports[from], "CLUSTER", "GETKEYSINSLOT", s, "1000")) {
                RedisCommands.call(ports[from], "MIGRATE", "127.0.0.1", Integer.toString(ports[to]), (String) key, "0", "5000");
            }
            RedisCommands.call(ports[to], "CLUSTER", "SETSLOT", s, "NODE", ids[to]);
            RedisCommands.call(ports[from], "CLUSTER", "SETSLOT", s, "NODE", ids[to]);
            RedisCommands.call(ports[3 - from - to], "CLUSTER", "SETSLOT", s, "NODE", ids[to]);
        }

        @Override
        public void close() {
            stopAll(processes, dir);
        }
    }
}
