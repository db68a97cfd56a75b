package org.jmapauthproxy.credential;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;

import java.util.List;

/** The contract against Redis read directly, several reads going as one pipelined batch (standalone, Sentinel). */
class RedisCredentialStoreBatchedTest extends CredentialStoreContract {

    @Override
    CredentialStore open(Vertx vertx, Redis redis, String uri) {
        return new RedisCredentialStore(redis, true);
    }

    @Override
    Future<List<StoredSession>> findAll(List<String> keys) {
        return ((RedisCredentialStore) store).findAll(keys);
    }
}
