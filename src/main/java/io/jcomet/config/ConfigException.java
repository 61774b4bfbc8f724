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
    /** What is wrong, without the key and value (they are in the message already); null for a plain message. */
    private final String problem;

    /**
     * @param key     the setting at fault (e.g. {@code polling_timeout}), or null
     * @param value   its raw value, or null when the problem is not about a value (e.g. it is missing)
     * @param problem what is wrong, e.g. {@code not an integer}
     */
    public ConfigException(String key, String value, String problem) {
        super(format(key, value, problem));
        this.key = key;
        this.value = value;
        this.problem = problem;
    }

    /** A problem not tied to one key (e.g. a malformed line in a file); the message is used as is. */
    public ConfigException(String message) {
        super(message);
        this.key = null;
        this.value = null;
        this.problem = null;
    }

    /** As {@link #ConfigException(String, String, String)}, keeping the I/O or parse error as cause. */
    public ConfigException(String key, String value, String problem, Throwable cause) {
        super(format(key, value, problem), cause);
        this.key = key;
        this.value = value;
        this.problem = problem;
    }

    /** The setting at fault, or null when the problem is not tied to one key. */
    public String key() {
        return key;
    }

    /** The offending raw value, or null when there is none. */
    public String value() {
        return value;
    }

    /**
     * What is wrong without the {@code invalid configuration: key=value:} prefix (e.g. {@code not an
     * integer}), so a caller that adds where the value came from does not repeat the message; the
     * whole message when this exception was made from a message only.
     */
    public String problem() {
        return problem != null ? problem : getMessage();
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
