package org.jmapauthproxy.config;

import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link SecretsDirectory} reads what SmallRye's file-system source read and finds a setting under
 * the same three names: the property, the property with every code point that is not an ASCII
 * letter, digit or {@code _} turned into {@code _} (SmallRye's regular expression, the oracle here),
 * and that in upper case. Real files in a temporary directory, and a real SmallRyeConfig for the
 * ordinals.
 */
class SecretsDirectoryTest {

    private static final Pattern NOT_PLAIN = Pattern.compile("[^a-zA-Z0-9_]");
    private static final String ALPHABET = "aZz09_.-\"/ ié\u00df\u0130\u0131";

    @TempDir
    Path dir;

    /** The oracle: SmallRye's lookup, in the root locale. */
    private static String lookup(Map<String, String> files, String name) {
        String value = files.get(name);
        if (value != null) {
            return value;
        }
        String plain = NOT_PLAIN.matcher(name).replaceAll("_");
        value = files.get(plain);
        return value != null ? value : files.get(plain.toUpperCase(Locale.ROOT));
    }

    private static String name(SplittableRandom random) {
        StringBuilder name = new StringBuilder();
        int length = 1 + random.nextInt(6);
        for (int i = 0; i < length; i++) {
            if (random.nextInt(12) == 0) {
                name.appendCodePoint(0x1F510); // a code point outside the BMP: one _ for two chars
            } else {
                name.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
        }
        return name.toString();
    }

    @Test
    void findsASettingUnderTheSameNamesAsSmallRyesSource() throws IOException {
        SplittableRandom random = new SplittableRandom(20_261_208L);
        int found = 0;
        int cases = 0;
        for (int round = 0; round < 40; round++) {
            Path roundDir = Files.createDirectory(dir.resolve("r" + round));
            Map<String, String> files = new HashMap<>();
            for (int f = 0; f < 6; f++) {
                String file = NOT_PLAIN.matcher(name(random)).replaceAll("_");
                if (random.nextBoolean()) {
                    file = file.toUpperCase(Locale.ROOT);
                }
                files.put(file, "v" + round + "-" + f);
                Files.writeString(roundDir.resolve(file), "v" + round + "-" + f + "\n");
            }
            SecretsDirectory source = new SecretsDirectory(roundDir);
            assertEquals(files, source.getProperties(), "the files read");
            for (int q = 0; q < 500; q++) {
                String asked = name(random);
                String expected = lookup(files, asked);
                assertEquals(expected, source.getValue(asked), "value of " + asked + " among " + files.keySet());
                found += expected == null ? 0 : 1;
                cases++;
            }
        }
        assertTrue(found > cases / 50, "too few names found to tell anything: " + found + " of " + cases);
    }

    @Test
    void readsRegularFilesOnlyFollowingLinksAndJoinsLines() throws IOException {
        Files.writeString(dir.resolve("authproxy.jwt.secret"), "first\nsecond\r\nthird\n");
        Path target = Files.createDirectory(dir.resolve("..data"));
        Files.writeString(target.resolve("authproxy.credentials.key"), "a2V5\n");
        Files.createSymbolicLink(dir.resolve("authproxy.credentials.key"), Path.of("..data", "authproxy.credentials.key"));
        Files.createDirectory(dir.resolve("nested"));
        Files.writeString(dir.resolve("nested").resolve("authproxy.origin.url"), "http://nowhere");

        SecretsDirectory source = new SecretsDirectory(dir);
        assertEquals(Map.of("authproxy.jwt.secret", "firstsecondthird", "authproxy.credentials.key", "a2V5"),
                source.getProperties());
        assertEquals("firstsecondthird", source.getValue("authproxy.jwt.secret"));
        assertEquals("a2V5", source.getValue("authproxy.credentials.key"), "through the link");
        assertNull(source.getValue("authproxy.origin.url"), "files in subdirectories are not settings");
        assertEquals(SecretsDirectory.ORDINAL, source.getOrdinal());
    }

    @Test
    void missingOrUnreadableDirectoryGivesNoSetting() throws IOException {
        assertTrue(new SecretsDirectory(dir.resolve("absent")).getProperties().isEmpty());
        assertNull(new SecretsDirectory(dir.resolve("absent")).getValue("authproxy.jwt.secret"));
        Files.write(dir.resolve("authproxy.jwt.secret"), new byte[] {(byte) 0xc3, (byte) 0x28}); // not UTF-8
        Files.writeString(dir.resolve("authproxy.credentials.key"), "a2V5");
        assertTrue(new SecretsDirectory(dir).getProperties().isEmpty(), "a directory is read whole or not at all");
    }

    @Test
    void factoryReadsEveryListedDirectoryBetweenThePackagedValuesAndTheEnvironment() throws IOException {
        Path first = Files.createDirectory(dir.resolve("first"));
        Path second = Files.createDirectory(dir.resolve("second"));
        Files.writeString(first.resolve("authproxy.jwt.secret"), "from-file");
        Files.writeString(first.resolve("QUARKUS_HTTP_PORT"), "8181");
        Files.writeString(second.resolve("authproxy.origin.url"), "http://origin-from-file");
        Files.writeString(second.resolve("authproxy.credentials.key"), "key-from-file");

        Map<String, String> packaged = Map.of(SecretsDirectory.LOCATIONS, first + "," + second,
                "authproxy.jwt.secret", "packaged", "quarkus.http.port", "8080", "authproxy.credentials.key", "packaged");
        Map<String, String> environment = Map.of("authproxy.credentials.key", "from-environment");
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(packaged, "packaged", 0))
                .withSources(new PropertiesConfigSource(environment, "environment", 300))
                .withSources(new SecretsDirectory.Factory())
                .build();
        assertEquals("from-file", config.getValue("authproxy.jwt.secret", String.class));
        assertEquals(8181, config.getValue("quarkus.http.port", Integer.class), "found under the environment-style name");
        assertEquals("http://origin-from-file", config.getValue("authproxy.origin.url", String.class), "second directory");
        assertEquals("from-environment", config.getValue("authproxy.credentials.key", String.class));

        SmallRyeConfig none = new SmallRyeConfigBuilder().withSources(new SecretsDirectory.Factory()).build();
        assertTrue(none.getOptionalValue("authproxy.jwt.secret", String.class).isEmpty(), "no locations, no source");
    }
}
