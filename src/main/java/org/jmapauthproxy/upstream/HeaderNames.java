package org.jmapauthproxy.upstream;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * A fixed set of header names, looked up ignoring ASCII case (header names are case-insensitive,
 * RFC 9110 §5.1) without lower-casing the name looked up.
 *
 * <p>The header policy asks it once per header, both ways, on every request. A {@code TreeSet} with
 * {@code String.CASE_INSENSITIVE_ORDER} did the same with four or five case-folding comparisons per
 * lookup (a few per cent of a request's CPU in the profiles of bench/NOTES.md); this is an
 * open-addressing table keyed by a name's length and end characters, so a lookup costs a few
 * character reads and compares in full only with the members that share its slot run.
 */
final class HeaderNames {

    /** Members in lower case, at the slot their hash chooses (or the next free one); nulls are free. */
    private final String[] slots;
    private final int mask;

    /** @param lowerNames distinct, non-empty, in lower case */
    private HeaderNames(Set<String> lowerNames) {
        int size = Integer.highestOneBit(Math.max(4, lowerNames.size() * 4) - 1) << 1;
        slots = new String[size];
        mask = size - 1;
        for (String name : lowerNames) {
            int i = hash(name) & mask;
            while (slots[i] != null) {
                i = (i + 1) & mask;
            }
            slots[i] = name;
        }
    }

    /** The union of {@code sets}, compared ignoring ASCII case. */
    @SafeVarargs
    static HeaderNames of(Set<String>... sets) {
        HashSet<String> all = new HashSet<>();
        for (Set<String> set : sets) {
            for (String name : set) {
                if (!name.isEmpty()) {
                    all.add(name.toLowerCase(Locale.ROOT));
                }
            }
        }
        return new HeaderNames(all);
    }

    /** Whether {@code name} is a member, in any ASCII case. */
    boolean contains(CharSequence name) {
        return contains(name, 0, name.length());
    }

    /** Whether the characters {@code from} (inclusive) to {@code to} (exclusive) of {@code text} name a member. */
    boolean contains(CharSequence text, int from, int to) {
        if (to <= from) {
            return false;
        }
        int i = hash(to - from, text.charAt(from), text.charAt(to - 1)) & mask;
        String member;
        while ((member = slots[i]) != null) {
            if (equalsIgnoringAsciiCase(member, text, from, to)) {
                return true;
            }
            i = (i + 1) & mask;
        }
        return false;
    }

    private static int hash(String lowerName) {
        return hash(lowerName.length(), lowerName.charAt(0), lowerName.charAt(lowerName.length() - 1));
    }

    /**
     * A hash of the length and the first and last characters, ASCII case folded: most names that
     * are not members land on a free slot without a look at their other characters, and a member
     * is compared in full once.
     */
    private static int hash(int length, char first, char last) {
        int h = (length * 31 + lower(first)) * 31 + lower(last);
        return h ^ (h >>> 7);
    }

    /** {@code lowerMember} is in lower case already; only the other side is folded. */
    private static boolean equalsIgnoringAsciiCase(String lowerMember, CharSequence text, int from, int to) {
        int n = lowerMember.length();
        if (to - from != n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (lowerMember.charAt(i) != lower(text.charAt(from + i))) {
                return false;
            }
        }
        return true;
    }

    private static char lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }
}
