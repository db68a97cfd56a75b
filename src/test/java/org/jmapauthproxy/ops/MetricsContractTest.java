package org.jmapauthproxy.ops;

import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import org.jmapauthproxy.support.ProxyBase;
import org.jmapauthproxy.support.RealServers;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chart's Grafana dashboard and alert rules name only metrics that the proxy exposes: every
 * PromQL expression in {@code helm/jmap-auth-proxy/dashboards/jmap-auth-proxy.json} and
 * {@code helm/jmap-auth-proxy/templates/prometheusrule.yaml} is read from the files, its metric
 * names extracted, and each looked up in what {@code /q/metrics} of the running proxy prints.
 */
@QuarkusTest
@WithTestResource(RealServers.class)
class MetricsContractTest {

    static final Path CHART = Path.of("helm", "jmap-auth-proxy");

    /**
     * Metrics that come from elsewhere, never from the proxy, each with its source. Nothing else may
     * be named by the dashboard or the rules without the proxy exposing it.
     */
    static final Map<String, String> FROM_ELSEWHERE = Map.of(
            "kube_pod_status_ready", "kube-state-metrics: the Ready condition of each pod (readiness flapping alert)",
            "up", "Prometheus itself: whether the last scrape of a target succeeded");

    /** PromQL words that look like identifiers but name no metric. */
    static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "offset", "atan2", "inf", "nan", "Inf", "NaN");

    @Inject
    RedisDataSource redis;

    @Inject
    @ProxyBase
    URL base;

    @TestHTTPResource(value = "metrics", management = true)
    URL metrics;

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @Test
    void everyMetricInTheDashboardAndTheAlertsIsExposedByTheProxy() throws Exception {
        // One proxied request and one 401, so that the tagged request series exist.
        String token = new Sessions(redis).create(Sessions.newSid(), "alice:pw");
        assertEquals(200, get(base + "echo", token).statusCode());
        assertEquals(401, get(base + "echo", null).statusCode());
        Set<String> exposed = exposedNames(get(metrics.toString(), null).body());

        Map<String, Set<String>> used = new TreeMap<>();
        for (String expr : dashboardExpressions()) {
            metricNames(expr).forEach(m -> used.computeIfAbsent(m, k -> new TreeSet<>()).add("dashboard: " + expr));
        }
        for (String expr : ruleExpressions()) {
            metricNames(expr).forEach(m -> used.computeIfAbsent(m, k -> new TreeSet<>()).add("rules: " + expr));
        }
        // Guards against a parser or a file layout that finds nothing and so passes vacuously.
        assertTrue(used.keySet().containsAll(List.of("authproxy_requests_seconds_count", "authproxy_requests_seconds_bucket",
                "authproxy_credential_lookup_seconds_bucket", "authproxy_origin_first_byte_seconds_bucket",
                "authproxy_session_cache_lookups_total", "authproxy_session_cache_feed_connected",
                "authproxy_event_streams_open", "authproxy_websockets_open", "authproxy_origin_requests_active",
                "authproxy_access_lines_dropped_total", "authproxy_store_errors_total", "kube_pod_status_ready")),
                "metrics found: " + used.keySet());

        List<String> missing = new ArrayList<>();
        used.forEach((metric, where) -> {
            if (!exposed.contains(metric) && !FROM_ELSEWHERE.containsKey(metric)) {
                missing.add(metric + " (in " + where + ")");
            }
        });
        assertTrue(missing.isEmpty(), "named in the chart but not on /q/metrics: " + missing);
    }

    @Test
    void metricNamesAreFoundInPromQlAndNothingElseIs() {
        assertEquals(Set.of("authproxy_requests_seconds_bucket"), metricNames(
                "histogram_quantile(0.99, sum by (le, outcome) (rate(authproxy_requests_seconds_bucket{namespace=\"$namespace\", job=~\"a|b\"}[$__rate_interval])))"));
        assertEquals(Set.of("a_total", "b_total"), metricNames(
                "sum without (pod) (rate(a_total{x=\"y\"}[5m] offset 1h)) / on (namespace) group_left (team) sum(b_total) > bool 0.5e3"));
        assertEquals(Set.of("kube_pod_status_ready"), metricNames(
                "sum by (namespace, pod) (changes(kube_pod_status_ready{namespace=\"{{ .Release.Namespace }}\", condition=\"true\"}[15m])) > {{ $v.readinessChanges }}"));
        assertEquals(Set.of("authproxy_store_errors_total"), metricNames(
                "rate(authproxy_store_errors_total{ {{- $sel -}} }[5m]) > 0"));
        assertEquals(Set.of("m"), metricNames("label_values(m{namespace=\"$namespace\"}, job)"));
        assertEquals(Set.of("up"), metricNames("max_over_time(up[1h:5m]) and ignoring(instance) up"));
    }

    HttpResponse<String> get(String url, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sample names of the Prometheus text format: a histogram shows as _bucket, _count, _sum (and _max). */
    static Set<String> exposedNames(String body) {
        Set<String> names = new TreeSet<>();
        for (String line : body.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }

    static List<String> dashboardExpressions() throws Exception {
        JsonObject dashboard = new JsonObject(Files.readString(CHART.resolve("dashboards/jmap-auth-proxy.json")));
        List<String> exprs = new ArrayList<>();
        for (Object panel : dashboard.getJsonArray("panels")) {
            for (Object target : ((JsonObject) panel).getJsonArray("targets", new JsonArray())) {
                exprs.add(((JsonObject) target).getString("expr"));
            }
        }
        for (Object variable : dashboard.getJsonObject("templating").getJsonArray("list")) {
            Object query = ((JsonObject) variable).getValue("query");
            if (query instanceof JsonObject q) {
                exprs.add(q.getString("query"));
            }
        }
        assertTrue(exprs.size() >= 9, "dashboard expressions: " + exprs);
        return exprs;
    }

    /** The {@code expr:} lines of the rule template (each expression is written on one line). */
    static List<String> ruleExpressions() throws Exception {
        List<String> exprs = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^\\s*expr:\\s*(.+)$")
                .matcher(Files.readString(CHART.resolve("templates/prometheusrule.yaml")));
        while (m.find()) {
            assertTrue(!m.group(1).startsWith("|") && !m.group(1).startsWith(">"),
                    "write each expr on one line, the check reads it so: " + m.group(1));
            exprs.add(m.group(1));
        }
        assertEquals(4, exprs.size(), "alert expressions: " + exprs);
        return exprs;
    }

    /**
     * Metric names in one PromQL expression (Grafana variables and Helm template actions allowed):
     * identifiers that are not followed by "(" (functions, aggregations), not keywords, not label
     * names inside {..} or by/without/on/ignoring/group_*(..), not strings and not durations.
     */
    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("\\{\\{.*?}}", " ")                       // Helm template actions
                .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`", "\"\"") // strings
                .replaceAll("\\{[^}]*}", " ")                                // label matchers
                .replaceAll("\\[[^]]*]", " ")                                // ranges, subqueries
                // "sum by (le) (x)": dropping the clause leaves "sum (x)", an aggregation called like a function
                .replaceAll("\\b(by|without)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\b(on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " $1 ");
        // label_values(metric, label): a Grafana query, whose second argument is a label.
        s = s.replaceAll("label_values\\s*\\(([^,)]*),[^)]*\\)", "label_values($1)");
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![\\w.:$])[A-Za-z_:][\\w:]*").matcher(s);
        while (m.find()) {
            String word = m.group();
            int next = m.end();
            while (next < s.length() && Character.isWhitespace(s.charAt(next))) {
                next++;
            }
            boolean call = next < s.length() && s.charAt(next) == '(';
            if (!call && !KEYWORDS.contains(word)) {
                names.add(word);
            }
        }
        return names;
    }
}
