package io.jcomet.servlet;

import java.util.List;

/**
 * icomet's admin IP filter: a caller whose address starts with an {@code allow} prefix is let in;
 * otherwise one matching a {@code deny} prefix (or any caller, with {@code deny: all}) is refused;
 * anyone else is let in. IPv6 loopback and IPv4-mapped addresses are compared as their IPv4 form,
 * so the default {@code allow 127.0.0.1} also admits {@code ::1}.
 *
 * <p>Immutable; any thread.
 */
final class AdminGuard {
    private final List<String> allow;
    private final List<String> deny;

    AdminGuard(List<String> allow, List<String> deny) {
        this.allow = allow;
        this.deny = deny;
    }

    boolean admits(String remoteAddr) {
        String ip = normalize(remoteAddr);
        for (String p : allow) {
            if (p.equals("all") || ip.startsWith(p)) {
                return true;
            }
        }
        for (String p : deny) {
            if (p.equals("all") || ip.startsWith(p)) {
                return false;
            }
        }
        return true;
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
