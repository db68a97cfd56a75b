package org.jmapauthproxy.config;

import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Start-up validation: every problem is reported at once, by setting name, never with its value. */
class ConfigCheckTest {

    static ProxyConfig config(Map<String, String> values) {
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withMapping(ProxyConfig.class)
                .withConverter(io.quarkus.runtime.configuration.MemorySize.class, 100,
                        new io.quarkus.runtime.configuration.MemorySizeConverter())
                .withConverter(java.time.Duration.class, 100, new io.quarkus.runtime.configuration.DurationConverter())
                .withDefaultValues(values)
                .build();
        return config.getConfigMapping(ProxyConfig.class);
    }

    static final String GOOD_SECRET = "s".repeat(64);
    static final String GOOD_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    static final Optional<String> REDIS = Optional.of("redis://127.0.0.1:6379");

    @Test
    void completeConfigurationHasNoProblem() {
        assertEquals(List.of(), ConfigCheck.problems(config(Map.of(
                "authproxy.jwt.secret", GOOD_SECRET,
                "authproxy.credentials.key", GOOD_KEY,
                "authproxy.origin.url", "http://127.0.0.1:8008")), REDIS));
    }

    @Test
    void everyMissingSecretTheOriginAndTheStoreAreListedTogether() {
        List<String> problems = ConfigCheck.problems(config(Map.of()), Optional.empty());
        assertEquals(4, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("quarkus.redis.hosts is not set"));
        assertTrue(problems.get(1).startsWith("authproxy.jwt.secret is missing"));
        assertTrue(problems.get(2).startsWith("authproxy.credentials.key is missing"));
        assertTrue(problems.get(3).startsWith("authproxy.origin.url is missing"));
    }

    @Test
    void blankRedisHostsIsAProblemLikeAMissingOne() {
        Map<String, String> complete = Map.of("authproxy.jwt.secret", GOOD_SECRET,
                "authproxy.credentials.key", GOOD_KEY, "authproxy.origin.url", "http://127.0.0.1:8008");
        assertEquals(List.of("quarkus.redis.hosts is not set (the session store, e.g. redis://redis:6379)"),
                ConfigCheck.problems(config(complete), Optional.of("  ")));
    }

    @Test
    void aCacheWithoutBytesIsAProblemUnlessItIsOff() {
        Map<String, String> noBytes = Map.of("authproxy.jwt.secret", GOOD_SECRET,
                "authproxy.credentials.key", GOOD_KEY, "authproxy.origin.url", "http://127.0.0.1:8008",
                "authproxy.jwt.cache-max-bytes", "0", "authproxy.credentials.cache-max-bytes", "0");
        assertEquals(List.of(
                        "authproxy.jwt.cache-max-bytes must be positive (cache-size=0 turns the cache off)",
                        "authproxy.credentials.cache-max-bytes must be positive (cache-size=0 turns the cache off)"),
                ConfigCheck.problems(config(noBytes), REDIS));
        Map<String, String> off = new HashMap<>(noBytes);
        off.put("authproxy.jwt.cache-size", "0");
        off.put("authproxy.credentials.cache-size", "0");
        assertEquals(List.of(), ConfigCheck.problems(config(off), REDIS));
    }

    @Test
    void invalidValuesAreNamedWithoutEchoingSecrets() {
        String shortSecret = "tiny-secret-value";
        ConfigCheck.InvalidConfig failure = assertThrows(ConfigCheck.InvalidConfig.class, () -> ConfigCheck.verify(config(Map.of(
                "authproxy.jwt.secret", shortSecret,
                "authproxy.credentials.key", "bm90LTMyLWJ5dGVz",
                "authproxy.credentials.previous-keys", GOOD_KEY + ",%%%",
                "authproxy.origin.url", "ftp://cyrus",
                "authproxy.origin.auth", "cyrus-jwt",
                "authproxy.origin.jwt-key-file", "/nonexistent/key.pem")), REDIS,
                List.of("a problem found by the assembly")));
        String message = failure.getMessage();
        for (String expected : List.of("authproxy.jwt.secret is 17 bytes", "a problem found by the assembly",
                "authproxy.origin.url must be an absolute http(s) URL", "authproxy.origin.jwt-key-file cannot be used")) {
            assertTrue(message.contains(expected), expected + " missing from:\n" + message);
        }
        assertTrue(!message.contains(shortSecret), "the secret's value must not appear");
    }

    @Test
    void unknownChoicesAreRefusedTogetherNamingTheSettingAndTheChoices() {
        RuntimeException failure = assertThrows(RuntimeException.class, () -> config(Map.of(
                "authproxy.credentials.encryption", "rot13",
                "authproxy.jwt.algorithm", "none",
                "authproxy.origin.auth", "digest")));
        String message = failure.getMessage();
        for (String expected : List.of("authproxy.credentials.encryption", "aes-gcm", "authproxy.jwt.algorithm", "hs512",
                "authproxy.origin.auth", "cyrus-jwt")) {
            assertTrue(message.toLowerCase(java.util.Locale.ROOT).contains(expected), expected + " missing from:\n" + message);
        }
    }

    @Test
    void choicesAreReadInTheirDocumentedSpelling() {
        ProxyConfig config = config(Map.of("authproxy.credentials.encryption", "none",
                "authproxy.jwt.algorithm", "RS256", "authproxy.origin.auth", "cyrus-jwt"));
        assertEquals(ProxyConfig.Encryption.NONE, config.credentials().encryption());
        assertEquals(ProxyConfig.JwtAlgorithm.RS256, config.jwt().algorithm());
        assertEquals(ProxyConfig.OriginAuth.CYRUS_JWT, config.origin().auth());
        assertEquals(ProxyConfig.Encryption.AES_GCM, config(Map.of()).credentials().encryption());
    }

    @Test
    void keyChecksApplyToCurrentAndPreviousKeys() {
        List<String> problems = ConfigCheck.problems(config(Map.of(
                "authproxy.jwt.secret", GOOD_SECRET,
                "authproxy.credentials.key", "bm90LTMyLWJ5dGVz",
                "authproxy.credentials.previous-keys", GOOD_KEY + ",%%%",
                "authproxy.origin.url", "http://cyrus:8008")), REDIS);
        assertEquals(List.of("authproxy.credentials.key is not base64 of exactly 32 bytes",
                "authproxy.credentials.previous-keys[1] is not base64 of exactly 32 bytes"), problems);
    }

    @Test
    void shortSecretPassesOnlyWhenAllowedAndPublicKeyAlgorithmsNeedAKey() {
        assertEquals(List.of(), ConfigCheck.problems(config(Map.of(
                "authproxy.jwt.secret", "short", "authproxy.jwt.allow-short-secret", "true",
                "authproxy.credentials.key", GOOD_KEY, "authproxy.origin.url", "http://cyrus:8008")), REDIS));
        assertEquals(List.of("authproxy.jwt.public-key is missing (RS256 needs it)"), ConfigCheck.problems(config(Map.of(
                "authproxy.jwt.algorithm", "RS256",
                "authproxy.credentials.key", GOOD_KEY, "authproxy.origin.url", "http://cyrus:8008")), REDIS));
        assertEquals(List.of(), ConfigCheck.problems(config(Map.of(
                "authproxy.jwt.secret", GOOD_SECRET, "authproxy.credentials.encryption", "none",
                "authproxy.origin.url", "https://cyrus/base")), REDIS));
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "https://mail.example.com             | -",
            "http://127.0.0.1:5173                | -",
            "http://[::1]:8080                    | -",
            "*                                    | must not be a wildcard",
            "https://*.example.com                | must not be a wildcard",
            "https://mail.example.com/            | no path",
            "https://mail.example.com/app         | no path",
            "mail.example.com                     | scheme://host",
            "ftp://mail.example.com               | scheme://host",
            "https://user@mail.example.com        | scheme://host",
            "https://Mail.Example.com             | as browsers send it: https://mail.example.com",
            "https://mail.example.com:443         | as browsers send it: https://mail.example.com",
            "null                                 | scheme://host",
    })
    void corsOriginsMustBeExactlyWhatBrowsersSend(String origin, String problem) {
        String found = ConfigCheck.corsOriginProblem(origin);
        if ("-".equals(problem)) {
            assertEquals(null, found);
        } else {
            assertTrue(found != null && found.contains(problem), String.valueOf(found));
        }
    }

    @Test
    void everyBadCorsOriginIsListedByIndex() {
        List<String> problems = ConfigCheck.problems(config(Map.of(
                "authproxy.jwt.secret", GOOD_SECRET,
                "authproxy.credentials.key", GOOD_KEY,
                "authproxy.origin.url", "http://127.0.0.1:8008",
                "authproxy.cors.allowed-origins", "https://ok.example,*,https://x.example/")), REDIS);
        assertEquals(2, problems.size(), problems.toString());
        assertTrue(problems.get(0).startsWith("authproxy.cors.allowed-origins[1] "), problems.get(0));
        assertTrue(problems.get(1).startsWith("authproxy.cors.allowed-origins[2] "), problems.get(1));
    }
}
