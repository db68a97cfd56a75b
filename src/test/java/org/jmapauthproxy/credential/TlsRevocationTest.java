package org.jmapauthproxy.credential;

import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.jmapauthproxy.support.RealServers;

/**
 * {@link CachedRevocationContract} with Redis over TLS and a private CA: {@code rediss://} hosts,
 * {@code quarkus.redis.tls-configuration-name} and the CA in Quarkus's TLS registry.
 */
@QuarkusTest
@WithTestResource(value = RealServers.class, initArgs = @ResourceArg(name = "redis", value = "tls"))
class TlsRevocationTest extends CachedRevocationContract {
}
