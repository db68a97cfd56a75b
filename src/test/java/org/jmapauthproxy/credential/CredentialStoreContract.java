package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import org.jmapauthproxy.support.RedisCommands;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@link CredentialStore} does, whatever it is built of: one subclass per implementation
 * builds its store in {@link #open}, and these cases run against it. Every case gets a redis-server
 * process of its own (the binary shipped in embedded-redis) on a free loopback port, written to by
 * the test over a connection of its own ({@link RedisCommands}).
 */
@Timeout(120)
abstract class CredentialStoreContract extends WithRedisServer {

    /** How long a store that remembers values may take to notice a change, generously for a loaded machine. */
    static final long PATIENCE_NANOS = TimeUnit.SECONDS.toNanos(10);

    CredentialStore store;

    /**
     * The store under test, reading from {@code redis}, a client of the test's redis-server at
     * {@code uri}. Called once per case, on the test's thread.
     */
    abstract CredentialStore open(Vertx vertx, Redis redis, String uri) throws Exception;

    /**
     * Whether the store may answer from memory for a while after a change (then the contract waits
     * for the change, up to {@link #PATIENCE_NANOS}); a store that does not must show it at once.
     */
    boolean remembers() {
        return false;
    }

    /**
     * Called after the contract found {@code key}'s value and before it changes it: a store that
     * remembers values waits here until it answers for {@code key} from memory, so that the change
     * tests its invalidation and not a read of Redis.
     */
    void found(String key) throws Exception {
    }

    /**
     * {@code keys} read at once, in their order. Stores with a read of many keys (the re-check of
     * open channels) read them with it; for others, all the finds are sent before any answer.
     */
    Future<List<StoredSession>> findAll(List<String> keys) {
        List<Future<StoredSession>> each = keys.stream().map(store::find).toList();
        return Future.all(each).map(all -> each.stream().map(Future::result).toList());
    }

    @BeforeEach
    void openTheStore() throws Exception {
        String uri = "redis://127.0.0.1:" + port;
        // The pool sizes of application.properties: many finds may be out at once.
        Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(uri)
                .setMaxPoolSize(16).setMaxPoolWaiting(4096));
        store = open(vertx, redis, uri);
    }

    @Test
    void storedValueIsFoundParsed() throws Exception {
        String key = newKey();
        set(key, new JsonObject().put("credentials", "c2VhbGVk").put("user", "alice").put("created", "by-test").encode());
        StoredSession expected = new StoredSession("c2VhbGVk", "alice", false);
        assertEquals(expected, await(store.find(key)));
        found(key);
        assertEquals(expected, await(store.find(key)), "found a second time");
    }

    @Test
    void missingKeyIsNull() throws Exception {
        String key = newKey();
        assertNull(await(store.find(key)));
        set(key, session("alice"));
        assertEquals("alice", await(store.find(key)).user(), "a session created after a miss is found at once");
    }

    @Test
    void deletedValueIsNullOnTheNextFind() throws Exception {
        assertChangeIsSeen(key -> assertEquals(":1", RedisCommands.send(port, "DEL", key)),
                value -> value == null, "the deleted value is still found");
    }

    @Test
    void overwrittenValueIsFoundNew() throws Exception {
        assertChangeIsSeen(key -> set(key, session("bob")),
                value -> value != null && "bob".equals(value.user()), "the old value is still found");
    }

    @Test
    void valueOfMaxBytesIsParsedAndOneByteMoreIsMalformed() throws Exception {
        String atMost = newKey();
        set(atMost, padded(StoredSession.MAX_BYTES));
        StoredSession whole = await(store.find(atMost));
        assertFalse(whole.malformed(), "a value of exactly MAX_BYTES was cut short");
        assertEquals("alice", whole.user());

        String over = newKey();
        set(over, padded(StoredSession.MAX_BYTES + 1));
        assertEquals(new StoredSession(null, null, true), await(store.find(over)),
                "a well-formed value one byte over MAX_BYTES is refused as malformed, not parsed");
        assertEquals(new StoredSession(null, null, true), await(store.find(over)), "and again");
    }

    @Test
    void manyConcurrentFindsOfDistinctKeysAreEachAnsweredWithTheirOwnValue() throws Exception {
        List<String> keys = new ArrayList<>();
        List<String> mset = new ArrayList<>(List.of("MSET"));
        for (int i = 0; i < 500; i++) {
            String key = newKey();
            keys.add(key);
            if (i % 7 != 0) {
                mset.add(key);
                mset.add(session("user-" + i));
            }
        }
        assertEquals("+OK", RedisCommands.send(port, mset.toArray(String[]::new)));
        for (int round = 0; round < 2; round++) {
            // Sent from several threads, all out before the first answer is awaited.
            List<Future<StoredSession>> finds = keys.parallelStream().map(store::find).toList();
            assertAnswers(keys, Future.all(finds).map(all -> finds.stream().map(Future::result).toList()));
            assertAnswers(keys, findAll(keys));
        }
    }

    @Test
    void pingSucceedsAgainstALiveRedisAndFailsWhenItIsStopped() throws Exception {
        await(store.ping());
        server.stop();
        // A failed future, not one that never completes (that would time out instead).
        assertThrows(ExecutionException.class, () -> await(store.ping()), "ping answered without a Redis");
    }

    /** Key i holds user-i, except every seventh key, which is missing. */
    static void assertAnswers(List<String> keys, Future<List<StoredSession>> answers) throws Exception {
        List<StoredSession> values = await(answers);
        assertEquals(keys.size(), values.size());
        for (int i = 0; i < keys.size(); i++) {
            if (i % 7 == 0) {
                assertNull(values.get(i), "missing key " + i);
            } else {
                assertEquals("user-" + i, values.get(i) == null ? null : values.get(i).user(), "key " + i);
            }
        }
    }

    /** Stores alice's session under a new key, finds it, applies {@code change} and finds the key until {@code seen}. */
    void assertChangeIsSeen(Change change, Predicate<StoredSession> seen, String failure) throws Exception {
        String key = newKey();
        set(key, session("alice"));
        assertEquals("alice", await(store.find(key)).user());
        found(key);
        change.apply(key);
        findUntil(key, seen, failure);
    }

    interface Change {
        void apply(String key) throws Exception;
    }

    /** Finds {@code key} until {@code expected} holds: once, or until the patience of a store that remembers. */
    void findUntil(String key, Predicate<StoredSession> expected, String failure) throws Exception {
        if (!remembers()) {
            assertTrue(expected.test(await(store.find(key))), failure + " (on the next find)");
            return;
        }
        eventually(() -> expected.test(await(store.find(key))), failure + " after " + PATIENCE_NANOS / 1_000_000 + " ms");
    }

    /** Polls {@code condition} until it holds; fails after {@link #PATIENCE_NANOS}. */
    static void eventually(Check condition, String failure) throws Exception {
        long deadline = System.nanoTime() + PATIENCE_NANOS;
        while (!condition.holds()) {
            assertTrue(System.nanoTime() - deadline < 0, failure);
            Thread.sleep(10); // paces the poll: a store answering from memory answers at once
        }
    }

    interface Check {
        boolean holds() throws Exception;
    }

    static <T> T await(Future<T> future) throws ExecutionException, InterruptedException, TimeoutException {
        return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    static String newKey() {
        return "contract-" + UUID.randomUUID();
    }

    static String session(String user) {
        return new JsonObject().put("credentials", "sealed-" + user).put("user", user).encode();
    }

    /** A well-formed session value of exactly {@code bytes} bytes (ASCII). */
    static String padded(int bytes) {
        String start = "{\"user\":\"alice\",\"pad\":\"";
        String end = "\"}";
        return start + "x".repeat(bytes - start.length() - end.length()) + end;
    }

    void set(String key, String value) throws Exception {
        assertEquals("+OK", RedisCommands.send(port, "SET", key, value));
    }
}
