package org.jmapauthproxy.jmap;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JmapLimitsUnitTest {

    static JsonObject session(JsonObject core) {
        return new JsonObject()
                .put("capabilities", new JsonObject().put(JmapLimits.CORE, core))
                .put("apiUrl", "/jmap/")
                .put("uploadUrl", "/jmap/upload/{accountId}/");
    }

    @Test
    void cyrusStyleSessionGivesPathsAndLimits() {
        JmapLimits.Limits limits = JmapLimits.Limits.of(session(new JsonObject()
                .put("maxSizeUpload", 1073741824).put("maxConcurrentUpload", 5).put("maxSizeRequest", 10485760)
                .put("maxConcurrentRequests", 5).put("maxCallsInRequest", 50)));
        assertEquals(new JmapLimits.Limits("/jmap/", "/jmap/upload/", 5, 10485760, 5, 1073741824), limits);
        assertTrue(limits.isApi("/jmap/"));
        assertTrue(limits.isApi("/jmap"));
        assertFalse(limits.isApi("/jmap/upload/"));
        assertFalse(limits.isApi("/jma"));
    }

    @Test
    void absoluteUrlsNonNumbersAndNonPositiveValuesAreReadSafely() {
        JsonObject doc = session(new JsonObject().put("maxSizeRequest", "10").put("maxConcurrentRequests", 0)
                .put("maxSizeUpload", -1).put("maxConcurrentUpload", 2.9))
                .put("apiUrl", "https://mail.example/jmap/api/?x=1").put("uploadUrl", "https://mail.example/up/");
        assertEquals(new JmapLimits.Limits("/jmap/api/", "/up/", 0, 0, 2, 0), JmapLimits.Limits.of(doc));
    }

    @Test
    void noCoreCapabilityOrApiUrlMeansNoLimits() {
        assertNull(JmapLimits.Limits.of(new JsonObject().put("apiUrl", "/jmap/")));
        assertNull(JmapLimits.Limits.of(new JsonObject().put("capabilities", new JsonObject().put(JmapLimits.CORE, new JsonObject()))));
        assertNull(JmapLimits.Limits.of(new JsonObject().put("capabilities", "x").put("apiUrl", "/jmap/")));
    }

    @Test
    void limitsAreRememberedPerAccountAndReplaced() {
        JmapLimits all = new JmapLimits();
        JmapLimits.Limits small = new JmapLimits.Limits("/jmap/", "/jmap/upload/", 1, 100, 1, 100);
        all.learn("sub:alice", small);
        all.learn("sub:bob", null);
        assertEquals(small, all.limitsOf("sub:alice"));
        assertNull(all.limitsOf("sub:bob"));
        all.learn("sub:alice", null);
        assertNull(all.limitsOf("sub:alice"));
        all.learn(null, small);
    }

    @Test
    void pathsAreDecodedOnceAsCyrusDecodesThem() {
        assertEquals("/jmap/", JmapLimits.decoded("/jmap/"));
        assertEquals("/jmap/", JmapLimits.decoded("/%6Amap/"));
        assertEquals("/jmap/", JmapLimits.decoded("/%6a%6D%61%70%2f"));
        assertEquals("/jmap/upload/alice/", JmapLimits.decoded("/jmap%2Fupload%2falice/"));
        assertEquals("/%6Amap/", JmapLimits.decoded("/%256Amap/"), "once, not until nothing is left");
        assertEquals("%j", JmapLimits.decoded("%%6A"));
        assertEquals("/jmap/%zz/%4", JmapLimits.decoded("/jmap/%zz/%4"), "malformed escapes stay");
        assertEquals("/a%\u0663\u0663", JmapLimits.decoded("/a%\u0663\u0663"), "only ASCII hex digits count");
        assertEquals("/\u00e9", JmapLimits.decoded("/%E9"), "a byte value as one character");
    }
}
