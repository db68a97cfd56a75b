package org.jmapauthproxy.route;

import org.jmapauthproxy.exchange.LongLivedStreams;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shutdown bookkeeping: requests in flight, and streams that open after the streams were ended. */
class InFlightTest {

    @Test
    void countsUntilClosedThenRefusesWithoutCounting() {
        InFlight inFlight = new InFlight();
        assertTrue(inFlight.enter());
        assertTrue(inFlight.enter());
        inFlight.leave();
        assertFalse(inFlight.draining());
        inFlight.drain();
        assertTrue(inFlight.draining(), "the drain delay sends clients elsewhere");
        assertTrue(inFlight.enter(), "requests are still served during the drain delay");
        inFlight.close();
        assertFalse(inFlight.enter());
        assertEquals(2, inFlight.count(), "a refused request is not left counted");
    }

    @Test
    void theDrainWaitsForTheLastRequestToLeaveNotForAPollingPeriod() throws Exception {
        InFlight inFlight = new InFlight();
        assertTrue(inFlight.enter());
        inFlight.close();
        assertFalse(inFlight.awaitIdle(50), "a request is still in flight");
        Thread leaving = new Thread(inFlight::leave);
        leaving.start();
        assertTrue(inFlight.awaitIdle(30_000), "the last request left");
        leaving.join();
        InFlight empty = new InFlight();
        empty.close();
        assertTrue(empty.awaitIdle(0), "nothing in flight: idle at once");
    }

    @Test
    void aStreamOpeningAfterTheStreamsWereEndedIsEndedAtOnce() {
        LongLivedStreams streams = new LongLivedStreams();
        AtomicInteger ended = new AtomicInteger();
        Runnable unregister = streams.register(ended::incrementAndGet);
        assertEquals(1, streams.open());
        streams.closeAll();
        assertEquals(1, ended.get());
        streams.register(ended::incrementAndGet);
        assertEquals(2, ended.get(), "a late stream would otherwise hold the shutdown until its timeout");
        assertEquals(0, streams.open());
        unregister.run();
    }
}
