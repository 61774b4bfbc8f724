package io.jcomet.metrics;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (0.0.4), enough for tests: every line
 * is a {@code # HELP}, a {@code # TYPE} or a sample {@code name{l="v",...} value}; anything else
 * fails the parse, so a test that reads /metrics also proves it is valid text format.
 */
final class PrometheusText {
    record Sample(String name, Map<String, String> labels, double value) {}

    final Map<String, String> types = new LinkedHashMap<>();
    final List<Sample> samples = new ArrayList<>();

    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? ([-+]?(?:[0-9.eE+-]+|Inf|NaN))(?: -?[0-9]+)?");
    private static final Pattern LABEL = Pattern.compile("\\s*([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"\\s*(,|$)");

    static PrometheusText parse(String text) {
        PrometheusText p = new PrometheusText();
        int n = 0;
        for (String line : text.split("\n")) {
            n++;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# HELP ")) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] t = line.substring(7).split(" ");
                if (t.length != 2 || !t[1].matches("counter|gauge|histogram|summary|untyped|info|stateset|unknown")) {
                    throw new AssertionError("line " + n + ": bad TYPE: " + line);
                }
                p.types.put(t[0], t[1]);
                continue;
            }
            if (line.startsWith("#")) {
                continue; // comment
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                throw new AssertionError("line " + n + ": not a sample: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null && !m.group(2).isEmpty()) {
                Matcher l = LABEL.matcher(m.group(2));
                int end = 0;
                while (end < m.group(2).length() && l.find(end) && l.start() == end) {
                    labels.put(l.group(1), l.group(2));
                    end = l.end();
                }
                if (end != m.group(2).length()) {
                    throw new AssertionError("line " + n + ": bad labels: " + line);
                }
            }
            String v = m.group(3);
            double value = v.endsWith("Inf") ? (v.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY)
                    : v.equals("NaN") ? Double.NaN : Double.parseDouble(v);
            p.samples.add(new Sample(m.group(1), labels, value));
        }
        return p;
    }

    /** The one sample named {@code name} whose labels include {@code labelPairs}; fails otherwise. */
    double value(String name, String... labelPairs) {
        List<Sample> found = new ArrayList<>();
        for (Sample s : samples) {
            if (!s.name().equals(name)) {
                continue;
            }
            boolean ok = true;
            for (int i = 0; i < labelPairs.length; i += 2) {
                ok &= labelPairs[i + 1].equals(s.labels().get(labelPairs[i]));
            }
            if (ok) {
                found.add(s);
            }
        }
        if (found.size() != 1) {
            throw new AssertionError("expected one sample " + name + " " + List.of(labelPairs) + ", found " + found);
        }
        return found.get(0).value();
    }

    boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name().equals(name));
    }
}
