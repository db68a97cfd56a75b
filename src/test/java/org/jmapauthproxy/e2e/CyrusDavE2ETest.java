package org.jmapauthproxy.e2e;

import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import org.jmapauthproxy.support.Sessions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CalDAV and CardDAV through the proxy against the real Cyrus (its {@code caldav carddav} modules):
 * discovery from the well-knowns (whose {@code Location} must point at the proxy), the principal and
 * home sets, then PUT, GET, REPORT (calendar-query with a time range, sync-collection) and DELETE of
 * an event and of a vCard. Every {@code Location} a response carries must name the proxy, never Cyrus.
 */
@QuarkusTest
@WithTestResource(CyrusOrigin.class)
class CyrusDavE2ETest extends E2EFixture {

    static final Pattern HREF = Pattern.compile("<(?:[A-Za-z]+:)?href>([^<]*)</(?:[A-Za-z]+:)?href>");
    static final Pattern SYNC_TOKEN = Pattern.compile("<(?:[A-Za-z]+:)?sync-token>([^<]*)</(?:[A-Za-z]+:)?sync-token>");

    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER).build();
    String token;

    @BeforeEach
    void setUp() {
        token = sessions.create(Sessions.newSid(), "alice:alicepw");
    }

    HttpResponse<String> send(String method, String url, String body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url.startsWith("/") ? proxyBase() + url : url))
                .header("Authorization", "Bearer " + token)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            request.headers(headers);
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        for (String name : new String[]{"Location", "Content-Location"}) {
            response.headers().firstValue(name).ifPresent(value -> assertFalse(value.startsWith(CyrusOrigin.url()),
                    name + " names Cyrus instead of the proxy: " + value));
        }
        return response;
    }

    HttpResponse<String> propfind(String url, int depth, String props) throws Exception {
        return send("PROPFIND", url, "<?xml version=\"1.0\" encoding=\"utf-8\"?><d:propfind xmlns:d=\"DAV:\""
                        + " xmlns:c=\"urn:ietf:params:xml:ns:caldav\" xmlns:a=\"urn:ietf:params:xml:ns:carddav\">"
                        + "<d:prop>" + props + "</d:prop></d:propfind>",
                "Depth", Integer.toString(depth), "Content-Type", "application/xml; charset=utf-8");
    }

    HttpResponse<String> report(String url, int depth, String body) throws Exception {
        return send("REPORT", url, "<?xml version=\"1.0\" encoding=\"utf-8\"?>" + body,
                "Depth", Integer.toString(depth), "Content-Type", "application/xml; charset=utf-8");
    }

    /** The href inside the named property's element, e.g. calendar-home-set. */
    static String hrefIn(String multistatus, String property) {
        int at = multistatus.indexOf(property + ">");
        assertTrue(at >= 0, property + " missing: " + multistatus);
        Matcher m = HREF.matcher(multistatus);
        assertTrue(m.find(at), "no href in " + property + ": " + multistatus);
        return m.group(1);
    }

    static String syncToken(String multistatus) {
        Matcher m = SYNC_TOKEN.matcher(multistatus);
        assertTrue(m.find(), "no sync-token: " + multistatus);
        return m.group(1);
    }

    /** Follows a well-known redirect to the principal and its home set, as a DAV client discovers. */
    String discoverHome(String wellKnown, String homeSet) throws Exception {
        HttpResponse<String> moved = propfind(wellKnown, 0, "<d:current-user-principal/>");
        assertEquals(301, moved.statusCode(), moved.body());
        String location = moved.headers().firstValue("Location").orElseThrow();
        assertTrue(location.startsWith(proxyBase() + "/dav/"), "well-known Location not on the proxy: " + location);
        assertEquals(301, send("GET", wellKnown, null).statusCode());
        HttpResponse<String> root = propfind(location, 0, "<d:current-user-principal/>");
        assertEquals(207, root.statusCode(), root.body());
        String principal = hrefIn(root.body(), "current-user-principal");
        assertTrue(principal.startsWith("/"), "DAV hrefs stay relative: " + principal);
        HttpResponse<String> principalProps = propfind(principal, 0, "<c:calendar-home-set/><a:addressbook-home-set/>");
        assertEquals(207, principalProps.statusCode(), principalProps.body());
        String home = hrefIn(principalProps.body(), homeSet);
        HttpResponse<String> collections = propfind(home, 1, "<d:resourcetype/>");
        assertEquals(207, collections.statusCode(), collections.body());
        assertTrue(collections.body().contains(home + "Default/"), collections.body());
        return home + "Default/";
    }

    @Test
    void calendarDiscoveryAndAnEventsWholeLife() throws Exception {
        String calendar = discoverHome("/.well-known/caldav", "calendar-home-set");
        String initial = syncToken(propfind(calendar, 0, "<d:sync-token/>").body());
        String uid = "e2e-" + UUID.randomUUID();
        String event = calendar + uid + ".ics";
        String ics = String.join("\r\n", "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//jmap-auth-proxy//e2e//EN",
                "BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20260101T000000Z", "DTSTART:20300115T100000Z",
                "DTEND:20300115T110000Z", "SUMMARY:proxy e2e", "END:VEVENT", "END:VCALENDAR", "");

        HttpResponse<String> put = send("PUT", event, ics, "Content-Type", "text/calendar; charset=utf-8", "If-None-Match", "*");
        assertEquals(201, put.statusCode(), put.body());
        HttpResponse<String> get = send("GET", event, null);
        assertEquals(200, get.statusCode());
        assertTrue(get.body().contains("UID:" + uid), get.body());

        String query = "<c:calendar-query xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\"><d:prop><d:getetag/></d:prop>"
                + "<c:filter><c:comp-filter name=\"VCALENDAR\"><c:comp-filter name=\"VEVENT\">"
                + "<c:time-range start=\"%s\" end=\"%s\"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>";
        HttpResponse<String> inRange = report(calendar, 1, query.formatted("20300115T000000Z", "20300116T000000Z"));
        assertEquals(207, inRange.statusCode(), inRange.body());
        assertTrue(inRange.body().contains(uid + ".ics"), inRange.body());
        HttpResponse<String> outOfRange = report(calendar, 1, query.formatted("20300201T000000Z", "20300202T000000Z"));
        assertEquals(207, outOfRange.statusCode(), outOfRange.body());
        assertFalse(outOfRange.body().contains(uid + ".ics"), outOfRange.body());

        String sync = "<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token>%s</d:sync-token><d:sync-level>1</d:sync-level>"
                + "<d:prop><d:getetag/></d:prop></d:sync-collection>";
        HttpResponse<String> changes = report(calendar, 0, sync.formatted(initial));
        assertEquals(207, changes.statusCode(), changes.body());
        assertTrue(changes.body().contains(uid + ".ics"), changes.body());
        String afterPut = syncToken(changes.body());

        assertEquals(204, send("DELETE", event, null).statusCode());
        assertEquals(404, send("GET", event, null).statusCode());
        HttpResponse<String> deleted = report(calendar, 0, sync.formatted(afterPut));
        assertEquals(207, deleted.statusCode(), deleted.body());
        assertTrue(deleted.body().contains(uid + ".ics") && deleted.body().contains("404"), deleted.body());
    }

    @Test
    void addressBookDiscoveryAndAVcardsWholeLife() throws Exception {
        String book = discoverHome("/.well-known/carddav", "addressbook-home-set");
        String initial = syncToken(propfind(book, 0, "<d:sync-token/>").body());
        String uid = "e2e-" + UUID.randomUUID();
        String card = book + uid + ".vcf";
        String vcf = String.join("\r\n", "BEGIN:VCARD", "VERSION:3.0", "UID:" + uid, "FN:Proxy E2E",
                "N:E2E;Proxy;;;", "EMAIL;TYPE=INTERNET:proxy-e2e@example.com", "END:VCARD", "");

        HttpResponse<String> put = send("PUT", card, vcf, "Content-Type", "text/vcard; charset=utf-8", "If-None-Match", "*");
        assertEquals(201, put.statusCode(), put.body());
        HttpResponse<String> get = send("GET", card, null);
        assertEquals(200, get.statusCode());
        assertTrue(get.body().contains("UID:" + uid), get.body());

        HttpResponse<String> query = report(book, 1, "<a:addressbook-query xmlns:d=\"DAV:\" xmlns:a=\"urn:ietf:params:xml:ns:carddav\">"
                + "<d:prop><d:getetag/></d:prop><a:filter><a:prop-filter name=\"EMAIL\"><a:text-match collation=\"i;unicode-casemap\""
                + " match-type=\"equals\">proxy-e2e@example.com</a:text-match></a:prop-filter></a:filter></a:addressbook-query>");
        assertEquals(207, query.statusCode(), query.body());
        assertTrue(query.body().contains(uid + ".vcf"), query.body());

        String sync = "<d:sync-collection xmlns:d=\"DAV:\"><d:sync-token>%s</d:sync-token><d:sync-level>1</d:sync-level>"
                + "<d:prop><d:getetag/></d:prop></d:sync-collection>";
        HttpResponse<String> changes = report(book, 0, sync.formatted(initial));
        assertEquals(207, changes.statusCode(), changes.body());
        assertTrue(changes.body().contains(uid + ".vcf"), changes.body());
        String afterPut = syncToken(changes.body());

        assertEquals(204, send("DELETE", card, null).statusCode());
        assertEquals(404, send("GET", card, null).statusCode());
        HttpResponse<String> deleted = report(book, 0, sync.formatted(afterPut));
        assertEquals(207, deleted.statusCode(), deleted.body());
        assertTrue(deleted.body().contains(uid + ".vcf") && deleted.body().contains("404"), deleted.body());
    }

    @Test
    void anotherUsersCalendarHomeIsNotReachable() throws Exception {
        HttpResponse<String> bob = propfind("/dav/calendars/user/bob/", 1, "<d:resourcetype/>");
        assertTrue(bob.statusCode() != 207 && !bob.body().contains("/user/bob/Default"), bob.statusCode() + " " + bob.body());
        // Cyrus 3.6 answers 301 with a relative Location inside the caller's own home
        // (/dav/calendars/user/alice/bob.(null)); relative values pass unchanged.
        bob.headers().firstValue("Location").ifPresent(location ->
                assertTrue(location.startsWith("/dav/calendars/user/alice/"), location));
    }
}
