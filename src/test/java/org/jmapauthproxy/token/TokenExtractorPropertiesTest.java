package org.jmapauthproxy.token;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Properties of {@link TokenExtractor} over generated client input: whatever a client sends, the
 * extractor answers Missing, Malformed or a well-formed compact JWT, and never throws (a throw is a 500).
 *
 * <p>Inputs come from a seeded generator, so a run is reproducible; {@code -Dfuzz.seed=N} explores
 * other inputs and {@code -Dfuzz.cases=N} runs more of them. A failure names the offending input.
 */
class TokenExtractorPropertiesTest {

    private static final long SEED = Long.getLong("fuzz.seed", 20_240_601L);
    private static final int CASES = Integer.getInteger("fuzz.cases", 20_000);
    private static final String NAME = "Authorization";
    private static final Pattern COMPACT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
    private static final String B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    private static final String B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    private static final String DELIMITERS = "\"'.=;, \t\\";

    private final TokenExtractor extractor = new TokenExtractor(NAME);

    @Test
    void findAnswersMissingMalformedOrACompactJwtForAnyInput() {
        Map<Class<?>, Integer> seen = new HashMap<>();
        forAll(rnd -> {
            String authorization = switch (rnd.nextInt(4)) {
                case 0 -> null;
                case 1 -> anyString(rnd);
                case 2 -> (rnd.nextBoolean() ? "Bearer " : "bEaReR ") + (rnd.nextBoolean() ? anyCompactJwt(rnd) : anyString(rnd));
                default -> "Basic " + anyString(rnd);
            };
            List<String> cookies = new ArrayList<>();
            for (int i = rnd.nextInt(4); i > 0; i--) {
                cookies.add(anyCookieHeader(rnd));
            }
            return new Object[] {authorization, cookies};
        }, input -> {
            TokenExtractor.Found found = extractor.find((String) input[0], castList(input[1]));
            seen.merge(found.getClass(), 1, Integer::sum);
            if (found instanceof TokenExtractor.Compact compact) {
                if (!COMPACT.matcher(compact.jwt()).matches()) {
                    throw new AssertionError("not a compact JWT: " + literal(compact.jwt()));
                }
            } else if (!(found instanceof TokenExtractor.Missing) && !(found instanceof TokenExtractor.Malformed)) {
                throw new AssertionError("unexpected outcome " + found);
            }
        });
        // Otherwise the generator, not the extractor, would be what keeps this property green.
        for (Class<?> outcome : List.of(TokenExtractor.Missing.class, TokenExtractor.Malformed.class, TokenExtractor.Compact.class)) {
            assertTrue(seen.getOrDefault(outcome, 0) > CASES / 100, outcome.getSimpleName() + " too rare: " + seen);
        }
    }

    @Test
    void cookieValueAndNormalizationNeverThrowAndOnlyYieldCompactJwts() {
        forAll(rnd -> new Object[] {anyCookieHeader(rnd), anyCookieValue(rnd)}, input -> {
            TokenExtractor.cookieValue((String) input[0], NAME);
            String jwt = TokenExtractor.normalizeCookieValue((String) input[1]);
            if (jwt != null && !COMPACT.matcher(jwt).matches()) {
                throw new AssertionError("not a compact JWT: " + literal(jwt));
            }
        });
    }

    @Test
    void cookieValueComparesNamesInPlaceAsTrimmedSubstringsWould() {
        forAll(rnd -> new Object[] {rnd.nextBoolean() ? anyCookieHeader(rnd)
                : anyCookieHeader(rnd) + ";" + " \t".substring(rnd.nextInt(3)) + NAME.substring(0, rnd.nextInt(NAME.length() + 1))
                        + " \t\u0001".substring(rnd.nextInt(4)) + "=" + anyCookieValue(rnd)}, input -> {
            String header = (String) input[0];
            assertEquals(cookieValueBySubstrings(header, NAME), TokenExtractor.cookieValue(header, NAME), literal(header));
        });
    }

    /** The first pair of that name, read from the header cut at its semicolons, names trimmed. */
    private static String cookieValueBySubstrings(String header, String name) {
        for (String pair : header.split(";", -1)) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).trim().equals(name)) {
                return pair.substring(eq + 1).trim();
            }
        }
        return null;
    }

    @Test
    void withoutTokenCookieNeverThrowsAndLeavesNoTokenCookie() {
        forAll(rnd -> new Object[] {anyCookieHeader(rnd)}, input -> {
            String kept = extractor.withoutTokenCookie((String) input[0]);
            if (kept != null) {
                assertNull(TokenExtractor.cookieValue(kept, NAME), "token cookie forwarded in " + literal(kept));
            }
        });
    }

    @Test
    void compactJwtInEveryAcceptedFormIsFoundUnchanged() {
        Base64.Encoder padded = Base64.getEncoder();
        Base64.Encoder unpadded = Base64.getEncoder().withoutPadding();
        forAll(rnd -> new Object[] {anyCompactJwt(rnd), rnd.nextInt(Integer.MAX_VALUE)}, input -> {
            String jwt = (String) input[0];
            SplittableRandom rnd = new SplittableRandom((Integer) input[1]);
            byte[] raw = jwt.getBytes(StandardCharsets.US_ASCII);
            byte[] quoted = ('"' + jwt + '"').getBytes(StandardCharsets.US_ASCII);
            List<String> forms = List.of(jwt, '"' + jwt + '"', padded.encodeToString(raw), unpadded.encodeToString(raw),
                    padded.encodeToString(quoted), unpadded.encodeToString(quoted));
            for (String form : forms) {
                String header = otherCookies(rnd) + NAME + "=" + form + (rnd.nextBoolean() ? "" : "; " + otherCookies(rnd) + "z=1");
                TokenExtractor.Found found = extractor.find(rnd.nextBoolean() ? null : "Basic YTpi", List.of(header));
                assertEquals(jwt, assertInstanceOf(TokenExtractor.Compact.class, found, header).jwt(), header);
            }
            TokenExtractor.Found bearer = extractor.find("Bearer " + jwt + " ".repeat(rnd.nextInt(3)), List.of());
            assertEquals(jwt, assertInstanceOf(TokenExtractor.Compact.class, bearer).jwt());
        });
    }

    /** Runs {@code property} on {@link #CASES} generated inputs; anything thrown fails with the input. */
    private static void forAll(Function<SplittableRandom, Object[]> generator, Consumer<Object[]> property) {
        SplittableRandom seeds = new SplittableRandom(SEED);
        for (int i = 0; i < CASES; i++) {
            Object[] input = generator.apply(seeds.split());
            try {
                property.accept(input);
            } catch (Throwable t) {
                fail("case " + i + " (seed " + SEED + ") failed for input " + describe(input) + ": " + t, t);
            }
        }
    }

    private static String anyCookieHeader(SplittableRandom rnd) {
        return switch (rnd.nextInt(4)) {
            case 0 -> anyString(rnd);
            case 1 -> NAME + "=" + anyCookieValue(rnd);
            default -> otherCookies(rnd) + (rnd.nextBoolean() ? " " : "") + NAME + (rnd.nextBoolean() ? "=" : " = ")
                    + anyCookieValue(rnd) + (rnd.nextBoolean() ? ";" + anyString(rnd) : "");
        };
    }

    /** Values aimed at the decoding paths: noise, valid tokens, base64 of noise, JWT-like text, cut-off encodings. */
    private static String anyCookieValue(SplittableRandom rnd) {
        Base64.Encoder encoder = rnd.nextBoolean() ? Base64.getEncoder() : Base64.getEncoder().withoutPadding();
        return switch (rnd.nextInt(7)) {
            case 0 -> anyString(rnd);
            case 1 -> rnd.nextBoolean() ? anyCompactJwt(rnd) : encoder.encodeToString(anyCompactJwt(rnd).getBytes(StandardCharsets.US_ASCII));
            case 2 -> encoder.encodeToString(anyString(rnd).getBytes(StandardCharsets.UTF_8));
            case 3 -> {
                String jwtLike = anyCompactJwt(rnd);
                int at = rnd.nextInt(jwtLike.length());
                yield jwtLike.substring(0, at) + anyString(rnd) + jwtLike.substring(at);
            }
            case 4 -> {
                String encoded = encoder.encodeToString(('"' + anyCompactJwt(rnd) + '"').getBytes(StandardCharsets.UTF_8));
                yield encoded.substring(0, rnd.nextInt(encoded.length() + 1));
            }
            case 5 -> '"' + anyString(rnd) + '"';
            default -> anyString(rnd);
        };
    }

    private static String otherCookies(SplittableRandom rnd) {
        StringBuilder out = new StringBuilder();
        for (int i = rnd.nextInt(3); i > 0; i--) {
            out.append('c').append(rnd.nextInt(100)).append('=').append(rnd.nextInt(1000)).append("; ");
        }
        return out.toString();
    }

    private static String anyCompactJwt(SplittableRandom rnd) {
        return segment(rnd) + '.' + segment(rnd) + '.' + segment(rnd);
    }

    private static String segment(SplittableRandom rnd) {
        String alphabet = B64URL.substring(0, 64);
        StringBuilder out = new StringBuilder();
        for (int i = 1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 400 : 40); i > 0; i--) {
            out.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
        }
        return out.toString();
    }

    /** Any length, mixing base64 alphabets, delimiters, control characters, any UTF-16 unit and astral code points. */
    private static String anyString(SplittableRandom rnd) {
        int length = rnd.nextInt(4) == 0 ? rnd.nextInt(300) : rnd.nextInt(24);
        int bias = rnd.nextInt(6);
        StringBuilder out = new StringBuilder(length);
        while (out.length() < length) {
            int kind = rnd.nextInt(3) == 0 ? rnd.nextInt(6) : bias;
            switch (kind) {
                case 0 -> out.append(B64.charAt(rnd.nextInt(B64.length())));
                case 1 -> out.append(B64URL.charAt(rnd.nextInt(B64URL.length())));
                case 2 -> out.append(DELIMITERS.charAt(rnd.nextInt(DELIMITERS.length())));
                case 3 -> out.append(rnd.nextBoolean() ? (char) rnd.nextInt(0x20) : (char) 0x7f);
                case 4 -> out.append((char) rnd.nextInt(0x10000));
                default -> out.appendCodePoint(0x10000 + rnd.nextInt(0x100000));
            }
        }
        return out.toString();
    }

    @SuppressWarnings("unchecked")
    private static List<String> castList(Object o) {
        return (List<String>) o;
    }

    private static String describe(Object[] input) {
        List<String> parts = new ArrayList<>();
        for (Object o : input) {
            parts.add(o instanceof String s ? literal(s) : String.valueOf(o instanceof List<?> l ? l.stream().map(x -> literal((String) x)).toList() : o));
        }
        return parts.toString();
    }

    /** {@code s} as a Java string literal, so a failing input can be pasted into a test. */
    private static String literal(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c >= 0x20 && c < 0x7f) {
                out.append(c);
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        return out.append('"').toString();
    }
}
