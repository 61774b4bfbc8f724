package io.jcomet.servlet;

import java.util.List;
import java.util.TreeSet;

/**
 * icomet's admin IP filter (its {@code ip_filter.h}), rule for rule:
 * <ul>
 * <li>no {@code allow} and no {@code deny} entry at all: everyone is admitted;</li>
 * <li>an entry with three dots ({@code 127.0.0.1}) matches that address exactly; any other entry
 * ({@code 192.168}, {@code 10.}) is a string prefix of the address;</li>
 * <li>a matching specific {@code allow} admits, else a matching specific {@code deny} refuses, else
 * {@code deny all} refuses, else {@code allow all} admits, else the caller is refused;</li>
 * <li>{@code all} and {@code *} mean everyone.</li>
 * </ul>
 * Like icomet, only the nearest entry above the address in sort order is tested (a
 * {@link TreeSet#higher} lookup, icomet's {@code upper_bound}), which gives the same answers as
 * icomet also in its corner cases. IPv6 loopback and IPv4-mapped addresses are compared as their
 * IPv4 form, so the default {@code allow 127.0.0.1} also admits {@code ::1}.
 *
 * <p>Immutable after construction; any thread.
 */
final class AdminGuard {
    private final TreeSet<String> allow = new TreeSet<>();
    private final TreeSet<String> deny = new TreeSet<>();
    private final boolean allowAll;
    private final boolean denyAll;
    private final boolean empty;

    AdminGuard(List<String> allow, List<String> deny) {
        this.allowAll = add(this.allow, allow);
        this.denyAll = add(this.deny, deny);
        this.empty = allow.isEmpty() && deny.isEmpty();
    }

    /** Stores each entry as icomet does: a full address ends with '=', a prefix with '@' (both sort after any address character). */
    private static boolean add(TreeSet<String> set, List<String> entries) {
        boolean all = false;
        for (String e : entries) {
            if (e.equals("all") || e.equals("*")) {
                all = true;
            } else {
                set.add(e + (e.chars().filter(c -> c == '.').count() == 3 ? "=" : "@"));
            }
        }
        return all;
    }

    boolean admits(String remoteAddr) {
        if (empty) {
            return true;
        }
        String ip = normalize(remoteAddr);
        if (hit(allow, ip)) {
            return true;
        }
        if (hit(deny, ip)) {
            return false;
        }
        if (denyAll) {
            return false;
        }
        return allowAll;
    }

    private static boolean hit(TreeSet<String> set, String ip) {
        String entry = set.higher(ip);
        if (entry == null) {
            return false;
        }
        int len = entry.length() - 1;
        if (entry.charAt(len) == '=') {
            return ip.length() == len && entry.startsWith(ip);
        }
        return ip.length() > len && ip.regionMatches(0, entry, 0, len);
    }

    static String normalize(String addr) {
        if (addr == null) {
            return "";
        }
        String a = addr;
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        if (a.equals("::1") || a.equals("0:0:0:0:0:0:0:1")) {
            return "127.0.0.1";
        }
        String lower = a.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("::ffff:")) {
            return a.substring(7);
        }
        if (lower.startsWith("0:0:0:0:0:ffff:")) {
            return a.substring(15);
        }
        return a;
    }
}
