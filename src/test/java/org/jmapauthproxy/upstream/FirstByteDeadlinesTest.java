package org.jmapauthproxy.upstream;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deadline list on a real Vert.x event loop, with its real timer. */
class FirstByteDeadlinesTest {

    static Vertx vertx;
    static Context loop;

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        loop = vertx.getOrCreateContext();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Runs {@code step} on the test's event loop, as the forwarder does, and returns its result. */
    static <T> T onLoop(Function<Void, T> step) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        loop.runOnContext(v -> {
            try {
                result.complete(step.apply(null));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        return result.get(10, TimeUnit.SECONDS);
    }

    @Test
    void dueDeadlinesExpireInOrderNeverBeforeTheirInstantAndCancelledOnesNever() throws Exception {
        List<String> expired = new CopyOnWriteArrayList<>();
        List<Long> lateness = new CopyOnWriteArrayList<>();
        CountDownLatch twoExpired = new CountDownLatch(2);
        FirstByteDeadlines deadlines = onLoop(v -> {
            FirstByteDeadlines list = new FirstByteDeadlines(vertx);
            long now = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                long at = now + TimeUnit.MILLISECONDS.toNanos(40 + 40L * i);
                String name = "exchange-" + i;
                FirstByteDeadlines.Deadline deadline = list.add(at);
                deadline.watch(() -> {
                    lateness.add(System.nanoTime() - at);
                    expired.add(name);
                    twoExpired.countDown();
                });
                if (i == 1) {
                    // The usual end: the answer began before the deadline.
                    deadline.cancel();
                }
            }
            return list;
        });
        assertTrue(twoExpired.await(10, TimeUnit.SECONDS), "both uncancelled deadlines expire");
        assertEquals(List.of("exchange-0", "exchange-2"), expired);
        for (long late : lateness) {
            assertTrue(late >= 0, "expired " + (-late) + " ns before its instant");
        }
        assertEquals(0, (int) onLoop(v -> deadlines.size()), "nothing stays listed");
    }

    @Test
    void aDeadlineAddedAfterAnotherWasCancelledStillExpires() throws Exception {
        CountDownLatch expired = new CountDownLatch(1);
        FirstByteDeadlines deadlines = onLoop(v -> {
            FirstByteDeadlines list = new FirstByteDeadlines(vertx);
            // The timer armed for the first fires at its instant, finds nothing due, and arms itself
            // for the second.
            FirstByteDeadlines.Deadline first = list.add(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(30));
            first.cancel();
            list.add(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(60)).watch(expired::countDown);
            return list;
        });
        assertTrue(expired.await(10, TimeUnit.SECONDS), "the second deadline expires without a timer of its own");
        assertEquals(0, (int) onLoop(v -> deadlines.size()));
    }

    @Test
    void watchingAfterTheDeadlinePassedExpiresAtOnceAndCancellingIsFinal() throws Exception {
        CountDownLatch passed = new CountDownLatch(1);
        FirstByteDeadlines.Deadline deadline = onLoop(v -> {
            FirstByteDeadlines list = new FirstByteDeadlines(vertx);
            FirstByteDeadlines.Deadline d = list.add(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5));
            // Nothing to reset yet (the origin connection is still being awaited) when it passes.
            vertx.setTimer(50, id -> passed.countDown());
            return d;
        });
        assertTrue(passed.await(10, TimeUnit.SECONDS));
        boolean resetAtOnce = onLoop(v -> {
            boolean[] ran = {false};
            deadline.watch(() -> ran[0] = true);
            return ran[0] && deadline.expired();
        });
        assertTrue(resetAtOnce, "an attempt set up after the deadline is reset at once");

        boolean ranAfterCancel = onLoop(v -> {
            FirstByteDeadlines list = new FirstByteDeadlines(vertx);
            FirstByteDeadlines.Deadline d = list.add(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5));
            d.cancel();
            boolean[] ran = {false};
            d.watch(() -> ran[0] = true);
            return ran[0] || d.expired() || list.size() != 0;
        });
        assertFalse(ranAfterCancel, "a cancelled deadline neither expires nor stays listed");
    }

    @Test
    void aPostponedDeadlineExpiresAtItsNewInstantAfterTheOthersAndNotAfterItEnded() throws Exception {
        List<String> expired = new CopyOnWriteArrayList<>();
        List<Long> lateness = new CopyOnWriteArrayList<>();
        CountDownLatch threeExpired = new CountDownLatch(3);
        long[] instants = new long[3];
        FirstByteDeadlines deadlines = onLoop(v -> {
            FirstByteDeadlines list = new FirstByteDeadlines(vertx);
            long now = System.nanoTime();
            FirstByteDeadlines.Deadline[] all = new FirstByteDeadlines.Deadline[3];
            for (int i = 0; i < 3; i++) {
                int index = i;
                instants[i] = now + TimeUnit.MILLISECONDS.toNanos(40 + 40L * i);
                all[i] = list.add(instants[i]);
                all[i].watch(() -> {
                    lateness.add(System.nanoTime() - instants[index]);
                    expired.add("exchange-" + index);
                    threeExpired.countDown();
                });
            }
            // The first one's upload is still going out: its answer is due after the third's.
            instants[0] = now + TimeUnit.MILLISECONDS.toNanos(200);
            all[0].postpone(instants[0]);
            // Asked for an instant before the last listed one: it stays behind that one.
            all[1].postpone(now + TimeUnit.MILLISECONDS.toNanos(60));
            instants[1] = instants[0];
            return list;
        });
        assertTrue(threeExpired.await(10, TimeUnit.SECONDS), "every deadline expires");
        assertEquals(List.of("exchange-2", "exchange-0", "exchange-1"), expired);
        for (long late : lateness) {
            assertTrue(late >= 0, "expired " + (-late) + " ns before its instant");
        }
        assertEquals(0, (int) onLoop(v -> deadlines.size()), "nothing stays listed");

        boolean moved = onLoop(v -> {
            FirstByteDeadlines list = new FirstByteDeadlines(vertx);
            FirstByteDeadlines.Deadline cancelled = list.add(System.nanoTime() + TimeUnit.SECONDS.toNanos(60));
            cancelled.cancel();
            cancelled.postpone(System.nanoTime() + TimeUnit.SECONDS.toNanos(120));
            return list.size() != 0;
        });
        assertFalse(moved, "a cancelled deadline is not listed again by postponing it");
    }
}
