package org.jmapauthproxy.config;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.Converters;
import org.eclipse.microprofile.config.spi.ConfigSource;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The secrets directory as a configuration source (README, "Secrets from files"): each regular
 * file directly in a directory of {@code smallrye.config.source.file.locations} is one setting, named
 * like the property ({@code authproxy.jwt.secret}), like the property with every character but ASCII
 * letters, digits and {@code _} turned into {@code _}, or like that in upper case
 * ({@code AUTHPROXY_JWT_SECRET}); its value is the file's lines (UTF-8) joined without their ends.
 * Symbolic links are followed, as in the volumes Kubernetes mounts Secrets in.
 *
 * <p>This is what SmallRye's file-system source read, under the same setting and ordinal. It takes
 * that source's place for its cost at start: that one ran a regular expression over every name looked
 * up while each extension's configuration is built, with or without a directory (8 % of the main
 * thread's samples in a pinned start, bench/NOTES.md); here a name is rewritten only when the
 * directory holds files, by a loop over its characters.
 */
public final class SecretsDirectory implements ConfigSource {

    private static final Logger LOG = Logger.getLogger(SecretsDirectory.class);

    /** The setting that names the directories (a comma-separated list), SmallRye's name for it. */
    public static final String LOCATIONS = "smallrye.config.source.file.locations";
    /** Above the packaged defaults (0), below environment variables (300) and system properties (400). */
    static final int ORDINAL = 100;

    private final String name;
    private final Map<String, String> values;

    SecretsDirectory(Path directory) {
        this.name = "SecretsDirectory[dir=" + directory.toAbsolutePath() + "]";
        this.values = Collections.unmodifiableMap(read(directory));
    }

    /** The directory's files by name; nothing when it is not a directory or cannot be read whole. */
    static Map<String, String> read(Path directory) {
        if (!Files.isDirectory(directory)) {
            return Map.of();
        }
        Map<String, String> values = new HashMap<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                if (Files.isRegularFile(file)) {
                    values.put(file.getFileName().toString(),
                            String.join("", Files.readAllLines(file, StandardCharsets.UTF_8)));
                }
            }
        } catch (IOException | RuntimeException e) {
            // The message names a path at most, never a file's content.
            LOG.warnf("secrets directory %s not read, none of its settings apply: %s", directory.toAbsolutePath(),
                    e.getClass().getSimpleName() + (e.getMessage() == null ? "" : " " + e.getMessage()));
            return Map.of();
        }
        return values;
    }

    @Override
    public String getValue(String property) {
        if (property == null || values.isEmpty()) {
            return null;
        }
        String value = values.get(property);
        if (value != null) {
            return value;
        }
        String plain = plain(property, false);
        value = values.get(plain);
        return value != null ? value : values.get(plain(property, true));
    }

    /**
     * The name with every code point that is not an ASCII letter, digit or {@code _} turned into one
     * {@code _}; in upper case when asked (ASCII only, whatever the default locale).
     */
    static String plain(String property, boolean upper) {
        StringBuilder out = new StringBuilder(property.length());
        for (int i = 0; i < property.length(); ) {
            int c = property.codePointAt(i);
            i += Character.charCount(c);
            boolean lower = c >= 'a' && c <= 'z';
            if (lower || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
                out.append((char) (upper && lower ? c - ('a' - 'A') : c));
            } else {
                out.append('_');
            }
        }
        return out.toString();
    }

    @Override
    public Set<String> getPropertyNames() {
        return values.keySet();
    }

    @Override
    public Map<String, String> getProperties() {
        return values;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public int getOrdinal() {
        return ORDINAL;
    }

    /** Makes one source per directory of {@link #LOCATIONS} (META-INF/services). */
    public static final class Factory implements ConfigSourceFactory {

        @Override
        public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
            ConfigValue locations = context.getValue(LOCATIONS);
            if (locations == null || locations.getValue() == null) {
                return List.of();
            }
            List<ConfigSource> sources = new ArrayList<>();
            for (String location : Converters.newArrayConverter(Converters.getImplicitConverter(String.class),
                    String[].class).convert(locations.getValue())) {
                sources.add(new SecretsDirectory(Path.of(location)));
            }
            return sources;
        }

        /** SmallRye's file-system source factory's priority. */
        @Override
        public OptionalInt getPriority() {
            return OptionalInt.of(290);
        }
    }
}
