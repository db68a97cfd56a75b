package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

/**
 * The contract against Redis read directly, in both ways of reading many keys: one pipelined batch
 * (standalone, Sentinel) and reads sent side by side (Cluster).
 */
@ParameterizedClass(name = "batched={0}")
@ValueSource(booleans = {true, false})
class RedisCredentialStoreTest extends CredentialStoreContract {

    @Parameter
    boolean batched;

    @Override
    CredentialStore open(Vertx vertx, Redis redis, String uri) {
        return new RedisCredentialStore(redis, batched);
    }

    @Override
    Future<List<StoredSession>> findAll(List<String> keys) {
        return ((RedisCredentialStore) store).findAll(keys);
    }
}
