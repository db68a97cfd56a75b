package org.jmapauthproxy.jmap;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LocationRebaserTest {

    private final LocationRebaser plain = new LocationRebaser(new PublicBase(Optional.empty(), false), "cyrus", 8008, "");
    private final LocationRebaser prefixed = new LocationRebaser(new PublicBase(Optional.empty(), false), "cyrus", 80, "/cyrus");
    private final LocationRebaser v6 = new LocationRebaser(new PublicBase(Optional.empty(), false), "[::1]", 8008, "");

    /** {@code -} in the second column: the value is left as it is. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://cyrus:8008/dav/calendars                | /dav/calendars",
            "http://CYRUS:8008/dav/calendars/user/alice/    | /dav/calendars/user/alice/",
            "https://cyrus:8008/jmap                        | /jmap",
            "http://cyrus:8008                              | /",
            "http://cyrus:8008?x=1                          | /?x=1",
            "http://cyrus:8008/a?b=c#d                      | /a?b=c#d",
            "' http://cyrus:8008/padded '                   | /padded",
            "http://cyrus/dav/calendars                     | -",
            "http://cyrus:8009/dav/calendars                | -",
            "http://other:8008/dav/calendars                | -",
            "http://cyrus.example:8008/x                    | -",
            "http://user@cyrus:8008/x                       | -",
            "/dav/calendars                                 | -",
            "dav/calendars                                  | -",
            "//cyrus:8008/dav                               | -",
            "mailto:alice@cyrus                             | -",
            "http://cyrus:80x/dav                           | -",
    })
    void originUrlsAreRebasedOthersKept(String value, String expected) {
        assertEquals("-".equals(expected) ? null : expected, plain.originPath(value));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://cyrus/cyrus/dav/calendars   | /dav/calendars",
            "http://cyrus:80/cyrus              | /",
            "http://cyrus/cyrus?x               | /?x",
            "http://cyrus/cyrusdav              | /cyrusdav",
            "http://cyrus/dav                   | /dav",
            "https://cyrus/cyrus/dav            | -",
    })
    void theOriginPathPrefixIsTakenOff(String value, String expected) {
        assertEquals("-".equals(expected) ? null : expected, prefixed.originPath(value));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "http://[::1]:8008/dav  | /dav",
            "http://[::1]/dav       | -",
            "http://[::2]:8008/dav  | -",
    })
    void ipv6OriginsMatchByAddressAndPort(String value, String expected) {
        assertEquals("-".equals(expected) ? null : expected, v6.originPath(value));
    }
}
