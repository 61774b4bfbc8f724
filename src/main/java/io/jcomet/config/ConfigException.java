package io.jcomet.config;

/**
 * A configuration setting or source is wrong; startup must stop with this message.
 *
 * <p>The message names the key and, when there is one, the offending value, so an operator can
 * find the line to fix: {@code invalid configuration: polling_timeout=abc: not an integer}.
 *
 * <p>Threads: immutable; created and thrown on whichever thread loads the configuration (the
 * servlet container's deployment thread or the embedded launcher's main thread).
 */
public class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String key;
    private final String value;

    /**
     * @param key     the setting at fault (e.g. {@code polling_timeout}), or null
     * @param value   its raw value, or null when the problem is not about a value (e.g. it is missing)
     * @param problem what is wrong, e.g. {@code not an integer}
     */
    public ConfigException(String key, String value, String problem) {
        super(format(key, value, problem));
        this.key = key;
        this.value = value;
    }

    /** A problem not tied to one key (e.g. a malformed line in a file); the message is used as is. */
    public ConfigException(String message) {
        super(message);
        this.key = null;
        this.value = null;
    }

    /** As {@link #ConfigException(String, String, String)}, keeping the I/O or parse error as cause. */
    public ConfigException(String key, String value, String problem, Throwable cause) {
        super(format(key, value, problem), cause);
        this.key = key;
        this.value = value;
    }

    /** The setting at fault, or null when the problem is not tied to one key. */
    public String key() {
        return key;
    }

    /** The offending raw value, or null when there is none. */
    public String value() {
        return value;
    }

    private static String format(String key, String value, String problem) {
        StringBuilder sb = new StringBuilder("invalid configuration: ");
        if (key != null) {
            sb.append(key);
            if (value != null) {
                sb.append('=').append(value);
            }
            sb.append(": ");
        }
        sb.append(problem);
        return sb.toString();
    }
}
