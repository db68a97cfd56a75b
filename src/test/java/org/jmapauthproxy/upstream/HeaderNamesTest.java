package org.jmapauthproxy.upstream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeaderNamesTest {

    static final HeaderNames NAMES = HeaderNames.of(HeaderPolicy.HOP_BY_HOP, Set.of("X-Request-Id"));

    @ParameterizedTest
    @ValueSource(strings = {"connection", "Connection", "CONNECTION", "cOnNeCtIoN", "Transfer-Encoding", "te", "TE",
            "x-request-id", "X-REQUEST-ID"})
    void membersAreFoundInAnyAsciiCase(String name) {
        assertTrue(NAMES.contains(name), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "t", "tee", "connections", "connectio", "x-request-i", "Content-Type", "Upgrade-Insecure-Requests",
            "Keep_Alive", "keep-alive ", "\u0130ransfer-encoding"})
    void othersAreNot(String name) {
        assertFalse(NAMES.contains(name), name);
    }

    @Test
    void aRegionOfALongerTextIsLookedUpAlone() {
        String list = "close, Keep-Alive ,x-private";
        assertTrue(NAMES.contains(list, 7, 17), "Keep-Alive inside the list");
        assertFalse(NAMES.contains(list, 0, 5), "close is not a member of this set");
        assertFalse(NAMES.contains(list, 7, 18), "the space after it is part of that region");
    }

    @Test
    void everyMemberOfALargerSetIsFoundAndNothingElse() {
        // More names than slots per name leaves room for: runs of colliding slots have to be walked.
        HeaderNames all = HeaderNames.of(HeaderPolicy.HOP_BY_HOP, HeaderPolicy.REPLACED_ON_REQUEST,
                HeaderPolicy.CLIENT_FORWARDING, HeaderPolicy.ORIGIN_ONLY_ON_RESPONSE);
        for (Set<String> set : java.util.List.of(HeaderPolicy.HOP_BY_HOP, HeaderPolicy.REPLACED_ON_REQUEST,
                HeaderPolicy.CLIENT_FORWARDING, HeaderPolicy.ORIGIN_ONLY_ON_RESPONSE)) {
            for (String name : set) {
                assertTrue(all.contains(name.toUpperCase(java.util.Locale.ROOT)), name);
            }
        }
        for (int i = 0; i < 10_000; i++) {
            assertFalse(all.contains("x-other-" + i));
        }
    }

    @Test
    void namesAlikeInLengthAndEndsAreToldApart() {
        // The slot is chosen by length and first and last characters: these three share one.
        HeaderNames names = HeaderNames.of(Set.of("X-Forwarded-Host", "x-forwarded-port"));
        assertTrue(names.contains("x-FORWARDED-host"));
        assertTrue(names.contains("X-Forwarded-Port"));
        assertFalse(names.contains("X-Forwarded-Xyzt"));
        assertFalse(names.contains("X-Forwarded-Hosu"));
    }
}
