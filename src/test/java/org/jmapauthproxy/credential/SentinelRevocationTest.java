package org.jmapauthproxy.credential;

import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.jmapauthproxy.support.RealServers;

/** {@link CachedRevocationContract} with {@code quarkus.redis.client-type=sentinel} (a master and a Sentinel). */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "redis", value = "sentinel"))
class SentinelRevocationTest extends CachedRevocationContract {
}
