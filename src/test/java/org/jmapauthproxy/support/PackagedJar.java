package org.jmapauthproxy.support;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The packaged proxy (the jar the image ships) as a process of its own, for the integration tests. */
public final class PackagedJar {

    private PackagedJar() {
    }

    /** The packaged jar with the JVM options given, on loopback ports, with Redis and the origin set when known. */
    public static ProcessBuilder builder(int port, int management, Map<String, String> backends, String... jvm) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvm));
        command.addAll(List.of("-jar", Path.of("target", "jmap-auth-proxy-runner.jar").toString()));
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        env.put("QUARKUS_HTTP_HOST", "127.0.0.1");
        env.put("QUARKUS_HTTP_PORT", Integer.toString(port));
        env.put("QUARKUS_MANAGEMENT_HOST", "127.0.0.1");
        env.put("QUARKUS_MANAGEMENT_PORT", Integer.toString(management));
        env.put("QUARKUS_REDIS_HOSTS", backends.getOrDefault("quarkus.redis.hosts", "redis://127.0.0.1:1"));
        if (backends.containsKey("authproxy.origin.url")) {
            env.put("AUTHPROXY_ORIGIN_URL", backends.get("authproxy.origin.url"));
        }
        return builder;
    }
}
