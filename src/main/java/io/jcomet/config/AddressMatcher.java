package io.jcomet.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A set of client addresses written as a configuration value ({@code trusted_proxies},
 * {@code client_limits_exempt}, {@code admin_allow}, {@code admin_deny}): comma-separated entries,
 * each a full IPv4 or IPv6 address, which matches only itself, or a CIDR range ({@code 10.0.0.0/8},
 * {@code fd00::/8}), or {@code all} (also {@code *}) for every address. Nothing else is accepted:
 * a string prefix such as {@code 192.168} is refused with a hint, since it would silently match
 * addresses nobody meant (icomet's prefix rule survives only where an icomet.conf is read, whose
 * reader translates each prefix into the CIDR ranges it meant).
 *
 * <p>IPv6 loopback and IPv4-mapped IPv6 addresses are compared as their IPv4 form, so {@code 127.0.0.1}
 * also covers {@code ::1} and {@code ::ffff:127.0.0.1}. Addresses are parsed as literals only: no
 * name is ever resolved.
 *
 * <p>Immutable; any thread. {@link #matches(String)} allocates only for IPv6 addresses.
 */
public final class AddressMatcher {
    private static final AddressMatcher NONE = new AddressMatcher(List.of(), false, new byte[0][], new int[0]);

    private final List<String> entries;
    private final boolean all;
    private final byte[][] networks;
    private final int[] prefixBits;

    private AddressMatcher(List<String> entries, boolean all, byte[][] networks, int[] prefixBits) {
        this.entries = entries;
        this.all = all;
        this.networks = networks;
        this.prefixBits = prefixBits;
    }

    public static AddressMatcher none() {
        return NONE;
    }

    /**
     * Parses a configuration value; throws IllegalArgumentException naming the entry that is not an
     * address, a CIDR range or {@code all}.
     */
    public static AddressMatcher parse(String value) {
        List<String> entries = new ArrayList<>();
        List<byte[]> nets = new ArrayList<>();
        List<Integer> bits = new ArrayList<>();
        boolean all = false;
        for (String e : value == null ? new String[0] : value.trim().split("[,\\s]+")) {
            if (e.isEmpty()) {
                continue;
            }
            entries.add(e);
            if (e.equalsIgnoreCase("all") || e.equals("*")) {
                all = true;
                continue;
            }
            int slash = e.indexOf('/');
            String addr = slash < 0 ? e : e.substring(0, slash);
            byte[] a = literal(addr);
            if (a == null) {
                throw new IllegalArgumentException("'" + e + "' is not an IP address or a CIDR range"
                        + (addr.matches("[0-9.]+") ? " (a prefix such as 192.168 is written 192.168.0.0/16)" : ""));
            }
            int n = a.length * 8;
            if (slash >= 0) {
                try {
                    n = Integer.parseInt(e.substring(slash + 1));
                } catch (NumberFormatException x) {
                    n = -1;
                }
                boolean mapped = a.length == 4 && addr.contains(":");
                if (mapped) {
                    n -= 96; // ::ffff:10.0.0.0/104 is 10.0.0.0/8
                }
                if (n < 0 || n > a.length * 8) {
                    throw new IllegalArgumentException("'" + e + "': the prefix length must be 0 to " + (a.length * 8 + (mapped ? 96 : 0)));
                }
            }
            nets.add(mask(a, n));
            bits.add(n);
        }
        if (entries.isEmpty()) {
            return NONE;
        }
        return new AddressMatcher(List.copyOf(entries), all, nets.toArray(new byte[0][]), bits.stream().mapToInt(Integer::intValue).toArray());
    }

    /** True when {@code ip} (a literal IPv4 or IPv6 address, possibly in brackets) is in the set. */
    public boolean matches(String ip) {
        if (all) {
            return true;
        }
        if (networks.length == 0 || ip == null) {
            return false;
        }
        byte[] a = literal(ip);
        return a != null && contains(a);
    }

    /** Like {@link #matches(String)} but ignoring {@code all}: is {@code ip} one of the listed addresses or ranges? */
    public boolean matchesListed(String ip) {
        if (networks.length == 0 || ip == null) {
            return false;
        }
        byte[] a = literal(ip);
        return a != null && contains(a);
    }

    public boolean matches(InetAddress address) {
        if (all) {
            return true;
        }
        return address != null && networks.length > 0 && contains(canonical(address.getAddress()));
    }

    private boolean contains(byte[] a) {
        for (int i = 0; i < networks.length; i++) {
            byte[] net = networks[i];
            if (net.length == a.length && Arrays.equals(net, mask(a, prefixBits[i]))) {
                return true;
            }
        }
        return false;
    }

    /** No entry at all. */
    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** {@code all} (or {@code *}) is among the entries. */
    public boolean matchesAll() {
        return all;
    }

    /** The entries as written. */
    public List<String> entries() {
        return entries;
    }

    @Override
    public String toString() {
        return String.join(",", entries);
    }

    private static byte[] mask(byte[] a, int bits) {
        byte[] m = a.clone();
        for (int i = 0; i < m.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            m[i] &= (byte) (0xff00 >> keep);
        }
        return m;
    }

    /** The bytes of a literal address (IPv4 form for loopback and IPv4-mapped IPv6), or null. */
    static byte[] literal(String s) {
        String a = s.trim();
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        if (a.isEmpty() || a.length() > 45) {
            return null;
        }
        if (a.indexOf(':') < 0) {
            return ipv4(a);
        }
        int pct = a.indexOf('%');
        if (pct >= 0) {
            a = a.substring(0, pct); // a zone id names an interface, not another address
        }
        for (int i = 0; i < a.length(); i++) {
            char c = a.charAt(i);
            if (c != ':' && c != '.' && Character.digit(c, 16) < 0) {
                return null; // never a host name: getByName below must not resolve anything
            }
        }
        try {
            return canonical(InetAddress.getByName(a).getAddress());
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static byte[] canonical(byte[] a) {
        if (a.length != 16) {
            return a;
        }
        boolean loopback = true;
        for (int i = 0; i < 15; i++) {
            loopback &= a[i] == 0;
        }
        if (loopback && a[15] == 1) {
            return new byte[] {127, 0, 0, 1};
        }
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return a;
            }
        }
        if (a[10] == (byte) 0xff && a[11] == (byte) 0xff) {
            return Arrays.copyOfRange(a, 12, 16);
        }
        return a;
    }

    private static byte[] ipv4(String a) {
        byte[] out = new byte[4];
        int part = 0;
        int value = -1;
        for (int i = 0; i <= a.length(); i++) {
            char c = i == a.length() ? '.' : a.charAt(i);
            if (c == '.') {
                if (value < 0 || part > 3) {
                    return null;
                }
                out[part++] = (byte) value;
                value = -1;
            } else if (c >= '0' && c <= '9') {
                value = value < 0 ? c - '0' : value * 10 + (c - '0');
                if (value > 255) {
                    return null;
                }
            } else {
                return null;
            }
        }
        return part == 4 ? out : null;
    }
}
