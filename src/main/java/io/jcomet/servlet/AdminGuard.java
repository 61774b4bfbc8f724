package io.jcomet.servlet;

import io.jcomet.config.AddressMatcher;

/**
 * Who may call the admin API ({@code admin_allow}, {@code admin_deny}), in icomet's order of rules
 * (its {@code ip_filter.h}) over exact addresses and CIDR ranges ({@link AddressMatcher}):
 * <ul>
 * <li>no {@code allow} and no {@code deny} entry at all: everyone is admitted;</li>
 * <li>an address listed in {@code allow} (itself or in a range) is admitted, else one listed in
 * {@code deny} is refused, else {@code deny all} refuses, else {@code allow all} admits, else the
 * caller is refused;</li>
 * <li>{@code all} and {@code *} mean everyone.</li>
 * </ul>
 * A full address matches only itself ({@code 127.0.0.1} does not admit {@code 127.0.0.12}); icomet's
 * string prefixes ({@code 192.168}) are read only from an icomet.conf, whose reader turns them into
 * CIDR ranges. IPv6 loopback and IPv4-mapped addresses are compared as their IPv4 form, so the
 * default {@code allow 127.0.0.1} also admits {@code ::1}.
 *
 * <p>Immutable after construction; any thread.
 */
final class AdminGuard {
    private final AddressMatcher allow;
    private final AddressMatcher deny;
    private final boolean empty;

    AdminGuard(AddressMatcher allow, AddressMatcher deny) {
        this.allow = allow;
        this.deny = deny;
        this.empty = allow.isEmpty() && deny.isEmpty();
    }

    boolean admits(String remoteAddr) {
        if (empty) {
            return true;
        }
        String ip = normalize(remoteAddr);
        if (allow.matchesListed(ip)) {
            return true;
        }
        if (deny.matchesListed(ip) || deny.matchesAll()) {
            return false;
        }
        return allow.matchesAll();
    }

    static String normalize(String addr) {
        return io.jcomet.core.Admission.normalize(addr);
    }
}
