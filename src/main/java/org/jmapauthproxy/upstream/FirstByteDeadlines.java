package org.jmapauthproxy.upstream;

import io.vertx.core.Vertx;

/**
 * The origin first-byte deadlines of the exchanges on one event loop: one list and at most one
 * Vert.x timer, instead of a timer set and cancelled for every exchange.
 *
 * <p>A Vert.x timer costs, per exchange, a handler, an entry in Vert.x's map of timers and one in
 * the event loop's scheduled-task queue, each added and removed again when the answer begins:
 * about 3 % of a request's CPU in bench/NOTES.md's profiles, for a deadline that almost never
 * fires. Here every deadline is the same timeout after its exchange started, so the deadlines of one
 * loop come in the order they are added: a doubly linked list keeps them in that order, and removing
 * a met one (the usual end) is unlinking it. The one timer is armed for the list's head; when it
 * fires it expires what is due and arms itself for the next head, if any.
 *
 * <p>Not thread-safe, by design: an instance belongs to one event loop, and is only used on it
 * (the timer, set from that loop, fires on it too). The timer belongs to the Vert.x context of the
 * exchange that armed it, a proxy listener's, which lives as long as the proxy port: the listeners
 * are undeployed only after the drain at shutdown, when no exchange is forwarded any more.
 */
final class FirstByteDeadlines {

    /** One exchange's deadline, from its start until its origin answer begins or the exchange ends. */
    static final class Deadline {
        private final FirstByteDeadlines owner;
        private long atNanos;
        private Deadline previous;
        private Deadline next;
        private boolean listed;
        private boolean expired;
        private Runnable onExpiry;

        private Deadline(FirstByteDeadlines owner, long atNanos) {
            this.owner = owner;
            this.atNanos = atNanos;
        }

        /**
         * What to do when the deadline passes (reset the current attempt's origin request); replaces
         * what an earlier attempt set. Runs {@code onExpiry} at once when the deadline has passed already.
         */
        void watch(Runnable onExpiry) {
            if (expired) {
                onExpiry.run();
            } else if (listed) {
                this.onExpiry = onExpiry;
            }
        }

        /**
         * Moves the deadline to {@code atNanos}, while the request is still going out (an upload's
         * body): its answer is not due before it has been sent. The instant must be as late as any
         * deadline listed, which the same timeout after the current time is. Nothing happens once the
         * deadline has expired or been cancelled.
         */
        void postpone(long atNanos) {
            owner.moveToTail(this, atNanos);
        }

        /** The answer began, or the exchange ended: nothing expires any more. */
        void cancel() {
            onExpiry = null;
            owner.unlink(this);
        }

        /** Whether the deadline passed before it was cancelled. */
        boolean expired() {
            return expired;
        }
    }

    private final Vertx vertx;
    private Deadline head;
    private Deadline tail;
    private boolean armed;

    FirstByteDeadlines(Vertx vertx) {
        this.vertx = vertx;
    }

    /**
     * Starts a deadline at {@code atNanos} ({@link System#nanoTime()}). Deadlines must be added in
     * the order of their instants, which a fixed timeout after the current time gives.
     */
    Deadline add(long atNanos) {
        Deadline deadline = new Deadline(this, atNanos);
        link(deadline);
        return deadline;
    }

    private void link(Deadline deadline) {
        deadline.listed = true;
        if (tail == null) {
            head = deadline;
        } else {
            tail.next = deadline;
            deadline.previous = tail;
        }
        tail = deadline;
        if (!armed) {
            // An armed timer fires at or before this deadline (it was armed for an earlier one);
            // it arms itself again for whatever heads the list then.
            arm(deadline.atNanos);
        }
    }

    private void moveToTail(Deadline deadline, long atNanos) {
        if (!deadline.listed) {
            return;
        }
        unlink(deadline);
        // Never before the last one listed: the list stays in the order of its instants.
        deadline.atNanos = tail == null || atNanos - tail.atNanos >= 0 ? atNanos : tail.atNanos;
        link(deadline);
    }

    /** Deadlines waiting now (for tests and the curious). */
    int size() {
        int n = 0;
        for (Deadline d = head; d != null; d = d.next) {
            n++;
        }
        return n;
    }

    private void arm(long atNanos) {
        armed = true;
        long millis = Math.max(1, (atNanos - System.nanoTime() + 999_999) / 1_000_000);
        vertx.setTimer(millis, id -> fire());
    }

    private void fire() {
        // Deadlines added while the due ones expire (an expiry can start other work on this loop)
        // need no timer of their own: the list's head gets one below.
        armed = true;
        long now = System.nanoTime();
        while (head != null && head.atNanos - now <= 0) {
            Deadline due = head;
            Runnable onExpiry = due.onExpiry;
            unlink(due);
            due.expired = true;
            due.onExpiry = null;
            if (onExpiry != null) {
                onExpiry.run();
            }
        }
        armed = false;
        if (head != null) {
            arm(head.atNanos);
        }
    }

    private void unlink(Deadline deadline) {
        if (!deadline.listed) {
            return;
        }
        deadline.listed = false;
        if (deadline.previous == null) {
            head = deadline.next;
        } else {
            deadline.previous.next = deadline.next;
        }
        if (deadline.next == null) {
            tail = deadline.previous;
        } else {
            deadline.next.previous = deadline.previous;
        }
        deadline.previous = null;
        deadline.next = null;
    }
}
