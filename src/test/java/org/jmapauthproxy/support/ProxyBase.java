package org.jmapauthproxy.support;

import io.quarkus.arc.Unremovable;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Qualifier;
import org.jmapauthproxy.route.ProxyServer;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.net.MalformedURLException;
import java.net.URL;

/**
 * The proxy port's base URL ({@code http://127.0.0.1:PORT/}) for tests: the port that
 * {@link ProxyServer} actually bound (the tests configure port 0).
 */
@Qualifier
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER})
public @interface ProxyBase {

    @Dependent
    @Unremovable
    class Producer {
        @Produces
        @ProxyBase
        URL base(ProxyServer server) throws MalformedURLException {
            if (server.port() <= 0) {
                throw new IllegalStateException("the proxy port is not open");
            }
            return new URL("http://127.0.0.1:" + server.port() + "/");
        }
    }
}
