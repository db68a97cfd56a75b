package org.jmapauthproxy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The package graph runs one way, as README's architecture table says: the entry points on top,
 * then the front ({@code route}) and its side ({@code ops}), then the steps in the request's order,
 * each importing only the kernel and the steps before it, and the kernel ({@code exchange}) and
 * {@code config} at the bottom, importing nothing of the project. Read from the import lines of
 * the main sources (fully qualified uses count too).
 */
class PackageGraphTest {

    /** What each package may import of the project; the root package (the assembly) may import all. */
    static final Map<String, Set<String>> ALLOWED = Map.of(
            "cli", Set.of("config", "token", "credential", "exchange"),
            "route", Set.of("ops", "token", "credential", "upstream", "exchange"),
            "ops", Set.of("credential", "upstream", "exchange"),
            "token", Set.of("exchange"),
            "credential", Set.of("token", "exchange"),
            "upstream", Set.of("credential", "exchange"),
            "jmap", Set.of("exchange"),
            "exchange", Set.of(),
            "config", Set.of());

    static final Path MAIN = Path.of("src/main/java/org/jmapauthproxy");
    static final Pattern USE = Pattern.compile("org\\.jmapauthproxy\\.([a-z]+)\\.");

    @Test
    void importsRunFromTheTopDownOnly() throws IOException {
        List<String> violations = new ArrayList<>();
        Set<String> packages = new TreeSet<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path relative = MAIN.relativize(file);
                if (relative.getNameCount() == 1) {
                    continue; // the root package: Assembly, Lifecycle, Main
                }
                String from = relative.getName(0).toString();
                packages.add(from);
                Set<String> allowed = ALLOWED.get(from);
                if (allowed == null) {
                    violations.add(from + " is a package the graph does not know; add it to README and here");
                    continue;
                }
                Matcher uses = USE.matcher(Files.readString(file));
                while (uses.find()) {
                    String to = uses.group(1);
                    if (!to.equals(from) && !allowed.contains(to)) {
                        violations.add(relative + " uses " + to);
                    }
                }
            }
        }
        assertEquals(ALLOWED.keySet(), packages, "every package of the table exists");
        assertTrue(violations.isEmpty(), String.join("\n", violations));
    }

    @Test
    void theCheckSeesAnImportRunningBackUp() {
        Matcher uses = USE.matcher("import org.jmapauthproxy.route.ProxyRoute;");
        assertTrue(uses.find());
        assertEquals("route", uses.group(1));
        assertTrue(!ALLOWED.get("upstream").contains(uses.group(1)));
    }
}
