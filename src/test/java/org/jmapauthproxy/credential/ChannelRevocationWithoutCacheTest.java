package org.jmapauthproxy.credential;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import org.jmapauthproxy.support.RealServers;

import java.util.Map;

/**
 * The same as {@link ChannelRevocationTest} with the session cache off: no invalidation feed, so
 * open channels are re-checked against Redis twice per bound, all in one round trip.
 */
@QuarkusTest
@TestProfile(ChannelRevocationWithoutCacheTest.NoCache.class)
@WithTestResource(RealServers.class)
class ChannelRevocationWithoutCacheTest extends ChannelRevocationTest {

    public static class NoCache implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("authproxy.credentials.cache-size", "0");
        }
    }
}
