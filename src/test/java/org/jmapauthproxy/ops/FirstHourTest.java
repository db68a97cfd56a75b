package org.jmapauthproxy.ops;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a new user meets in the first hour, following the README literally, stays true: the README,
 * the dev profile, the Cyrus script and the CI script agree with each other (issue 14, item 5).
 */
class FirstHourTest {

    static String read(String path) throws IOException {
        return Files.readString(Path.of(path));
    }

    static String first(String text, String regex) {
        Matcher m = Pattern.compile(regex, Pattern.MULTILINE).matcher(text);
        assertTrue(m.find(), "no match for " + regex);
        return m.group(1);
    }

    @Test
    void devModeExpectsCyrusWhereTheScriptStartsItAndTheReadmeSaysSo() throws IOException {
        String devOrigin = first(read("src/main/resources/application.properties"),
                "^%dev\\.authproxy\\.origin\\.url=(\\S+)$");
        String scriptPort = first(read("e2e/cyrus/start-cyrus.sh"), "^HTTP_PORT=\\$\\{HTTP_PORT:-(\\d+)}$");
        assertEquals("http://127.0.0.1:" + scriptPort, devOrigin,
                "dev mode's origin and e2e/cyrus/start-cyrus.sh's default port");
        String readme = read("README.md");
        String devParagraph = first(readme, "(\\*\\*Dev mode\\*\\*[\\s\\S]*?)\\n\\n");
        assertTrue(devParagraph.contains("expects the origin on `" + devOrigin + "`"), devParagraph);
        assertTrue(devParagraph.contains("e2e/cyrus/start-cyrus.sh"), devParagraph);
        assertTrue(devParagraph.contains("needs root") && devParagraph.contains("apt-get"),
                "the README says the script needs root and installs Debian packages: " + devParagraph);
    }

    @Test
    void noAnalyticsQuestionOnTheFirstDevModeStart() throws IOException {
        // The Maven plugin asks before it reads application.properties: only a system property
        // given to every ./mvnw run keeps it quiet.
        assertTrue(read(".mvn/maven.config").lines().anyMatch("-Dquarkus.analytics.disabled=true"::equals));
    }

    @Test
    void readmeDescribesTheCiRunAsItIs() throws IOException {
        String mavenLine = read(".ci/run").lines().map(String::trim)
                .filter(l -> l.startsWith("./mvnw verify")).findFirst().orElseThrow();
        String readme = read("README.md");
        int paragraph = readme.indexOf("`.ci/run` (what CI runs on a fresh Debian 12 with JDK 17)");
        assertTrue(paragraph >= 0, "the README describes .ci/run");
        int end = readme.indexOf("\n\n", paragraph);
        assertTrue(readme.substring(paragraph, end < 0 ? readme.length() : end).contains("runs `" + mavenLine + "`"),
                "the README names .ci/run's Maven command, " + mavenLine);
        assertFalse(readme.contains("runs exactly `./mvnw verify`"));
    }

    @Test
    void embeddedRedisIsDescribedWithItsRealScope() throws IOException {
        String pom = read("pom.xml");
        String scope = first(pom, "<artifactId>embedded-redis</artifactId>\\s*<version>[^<]*</version>\\s*<scope>(\\w+)</scope>");
        String readme = read("README.md");
        assertFalse(readme.contains("embedded-redis` test dependency"), "it is " + scope + ", not test");
        assertTrue(readme.contains("`embedded-redis` dependency (`" + scope + "` scope"), "README names the scope " + scope);
    }

    @Test
    void everyDockerfileIsInTheReadme() throws IOException {
        String readme = read("README.md");
        List<String> dockerfiles;
        try (Stream<Path> files = Files.list(Path.of("src/main/docker"))) {
            dockerfiles = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith("Dockerfile.") && !n.endsWith(".dockerignore")).sorted().toList();
        }
        assertEquals(4, dockerfiles.size(), dockerfiles.toString());
        for (String name : dockerfiles) {
            assertTrue(readme.contains("src/main/docker/" + name + " "), name + " is not in the README");
        }
        assertTrue(Files.isRegularFile(Path.of("helm/jmap-auth-proxy/README.md")), "the chart has a README");
    }

    /**
     * Each Dockerfile's own .dockerignore (BuildKit reads it instead of the repository's) lets
     * through every file the Dockerfile copies from the build context; the ignore files shut out
     * everything ({@code *}) and name what comes back ({@code !path}, a directory with a slash).
     */
    @Test
    void everyFileADockerfileCopiesPassesItsDockerignore() throws IOException {
        Pattern copy = Pattern.compile("^COPY\\s+(?:--(?!from)\\S+\\s+)*(\\S+)\\s+\\S+\\s*$", Pattern.MULTILINE);
        int checked = 0;
        try (Stream<Path> files = Files.list(Path.of("src/main/docker"))) {
            for (Path ignore : files.filter(p -> p.toString().endsWith(".dockerignore")).sorted().toList()) {
                String dockerfile = read(ignore.toString().substring(0, ignore.toString().length() - ".dockerignore".length()));
                List<String> lines = Files.readAllLines(ignore).stream().map(String::strip)
                        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
                assertEquals("*", lines.get(0), ignore + " starts by shutting out everything");
                Matcher m = copy.matcher(dockerfile);
                while (m.find()) {
                    String source = m.group(1);
                    boolean through = lines.stream().filter(l -> l.startsWith("!")).map(l -> l.substring(1))
                            .anyMatch(p -> p.equals(source) || p.endsWith("/") && source.startsWith(p)
                                    || source.equals(p.substring(0, Math.max(0, p.length() - 1))) && p.endsWith("/"));
                    assertTrue(through, ignore.getFileName() + " keeps out " + source + ", which the Dockerfile copies");
                    checked++;
                }
            }
        }
        assertTrue(checked >= 6, "COPY lines checked: " + checked);
    }
}
