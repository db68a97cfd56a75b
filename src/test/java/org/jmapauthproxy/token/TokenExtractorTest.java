package org.jmapauthproxy.token;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

class TokenExtractorTest {

    static final String JWT = "eyJhbGciOiJIUzUxMiJ9.eyJzaWQiOiJzMSJ9.c2lnbmF0dXJl";
    final TokenExtractor extractor = new TokenExtractor("Authorization");

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void bearerHeaderWinsOverCookie() {
        TokenExtractor.Found found = extractor.find("Bearer " + JWT, List.of("Authorization=other.jwt.value"));
        assertEquals(JWT, ((TokenExtractor.Compact) found).jwt());
    }

    @Test
    void basicHeaderFallsBackToCookie() {
        TokenExtractor.Found found = extractor.find("Basic YTpi", List.of("x=1; Authorization=" + JWT));
        assertEquals(JWT, ((TokenExtractor.Compact) found).jwt());
    }

    @Test
    void cookieFormsOfHyperAuthProxyAreAccepted() {
        String unpadded = b64(JWT).replace("=", "");
        for (String value : List.of(JWT, "\"" + JWT + "\"", b64(JWT), unpadded, b64("\"" + JWT + "\""))) {
            TokenExtractor.Found found = extractor.find(null, List.of("a=b; Authorization=" + value + "; c=d"));
            assertEquals(JWT, ((TokenExtractor.Compact) found).jwt(), value);
        }
    }

    @Test
    void missingAndMalformedAreTold() {
        assertInstanceOf(TokenExtractor.Missing.class, extractor.find(null, List.of()));
        assertInstanceOf(TokenExtractor.Missing.class, extractor.find(null, List.of("Authorizationx=1; y=2")));
        assertInstanceOf(TokenExtractor.Malformed.class, extractor.find(null, List.of("Authorization=%%%")));
        assertInstanceOf(TokenExtractor.Malformed.class, extractor.find("Bearer not-a-jwt", List.of()));
        assertInstanceOf(TokenExtractor.Malformed.class, extractor.find(null, List.of("Authorization=" + b64("a.b"))));
    }

    @Test
    void missingDetailNamesTheHeaderAndTheConfiguredCookie() {
        assertEquals("no session token: send Authorization: Bearer <token> or the cookie named jmap_session",
                new TokenExtractor("jmap_session").missingDetail());
    }

    @ParameterizedTest
    @ValueSource(strings = {"x", "abcde", "\"abcde\"", "eyJhbGciOiJIUzUxMiJ9.", "=", "a===="})
    void cookieValueOneCharPastAMultipleOfFourIsMalformedNotACrash(String value) {
        assertInstanceOf(TokenExtractor.Malformed.class, extractor.find(null, List.of("Authorization=" + value)));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Authorization=tok|",
            "a=1; Authorization=tok; b=2|a=1; b=2",
            "Authorization=tok;b=2|b=2",
            "a=1|a=1",
            "Authorizationx=1; a=2|Authorizationx=1; a=2"})
    void tokenCookieIsRemovedAndOthersStay(String header, String expected) {
        assertEquals(expected, extractor.withoutTokenCookie(header));
    }

    @Test
    void compactJwtShape() {
        assertEquals(true, TokenExtractor.isCompactJwt("a.b.c"));
        assertEquals(false, TokenExtractor.isCompactJwt("a.b."));
        assertEquals(false, TokenExtractor.isCompactJwt("a..c"));
        assertEquals(false, TokenExtractor.isCompactJwt("a.b.c.d"));
        assertEquals(false, TokenExtractor.isCompactJwt("a.b=.c"));
        assertNull(TokenExtractor.normalizeCookieValue("\"\""));
    }

    @Test
    void compactJwtShapeAgreesWithItsGrammarOnManyStrings() {
        // The grammar as a regular expression: three base64url segments (RFC 4648 §5), two dots.
        java.util.regex.Pattern grammar = java.util.regex.Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
        String alphabet = "aZ09-_aZ09-_...=+/ \u00e9\u0100\u2024";
        java.util.Random random = new java.util.Random(8620);
        int shaped = 0;
        for (int i = 0; i < 50_000; i++) {
            StringBuilder s = new StringBuilder();
            for (int n = random.nextInt(9); n > 0; n--) {
                s.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String candidate = s.toString();
            boolean expected = grammar.matcher(candidate).matches();
            shaped += expected ? 1 : 0;
            assertEquals(expected, TokenExtractor.isCompactJwt(candidate), candidate);
        }
        org.junit.jupiter.api.Assertions.assertTrue(shaped > 100, "the sample holds well-formed tokens too: " + shaped);
    }
}
