package io.jcomet.docs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shell blocks of a markdown file, split into the commands a reader types and the output the
 * doc shows for each. Only fenced blocks tagged {@code sh}, {@code bash}, {@code shell} or
 * {@code console} are shell blocks; html, js, ini, xml and untagged blocks are not commands.
 *
 * <p>Two ways a block shows output:
 * <ul>
 *   <li>a session: lines starting with {@code $ } are commands; the lines after one, up to the next
 *       {@code $ } line or a blank line, are its output;</li>
 *   <li>a list of commands: every other non-blank, non-comment line is a command; an end-of-line
 *       comment that starts like an answer ({@code {}, {@code [}, or {@code name(} as in
 *       {@code icomet_cb(...)}) is its one line of output; any other comment is prose.</li>
 * </ul>
 * A line ending in {@code \} continues on the next line.
 *
 * <p>Directives: an HTML comment {@code <!-- docs-check: ... -->} on one of the lines right before
 * a block (blank lines and other directives may come between) applies to that block:
 * {@code skip (reason)} (the block is not run: the reason must be given, and the doc should say it
 * to the reader too), {@code exit 0|1 (reason)} (exit statuses accepted besides 0),
 * {@code file NAME=TEXT} (a file the block reads, written to the working directory for the run).
 *
 * <p>A file a command uploads ({@code curl --data-binary @NAME}) must be created by an earlier
 * command of the same block ({@code printf ... > NAME}), so the reader is told to make it; files a
 * block writes with {@code > NAME} are listed in {@link Block#writes()} (the check removes them).
 *
 * <p>Threads: immutable results, parsed on the test thread.
 */
final class DocBlocks {

    private static final Pattern FENCE = Pattern.compile("^(```+|~~~+)\\s*([\\w-]*).*$");
    private static final Pattern DIRECTIVE = Pattern.compile("^<!--\\s*docs-check:\\s*(.*?)\\s*-->\\s*$");
    /** A file a command uploads with curl: {@code @NAME} (a relative path; {@code @-} is stdin). */
    private static final Pattern READS_FILE = Pattern.compile("(?:^|\\s)(?:-d|-F|--data[\\w-]*|--upload-file|-T)\\s+[\"']?[\\w-]*=?@([\\w.][\\w./-]*)");
    /** A file a command creates: {@code > NAME} (a relative path). */
    private static final Pattern WRITES_FILE = Pattern.compile("(?:^|[\\s\\d])>\\s*([\\w.][\\w./-]*)");
    private static final List<String> SHELL = List.of("sh", "bash", "shell", "console");
    /** An end-of-line comment that is an answer rather than prose. */
    private static final Pattern OUTPUT_COMMENT = Pattern.compile("^(\\{|\\[|[A-Za-z_$][\\w$]*\\().*");

    private DocBlocks() {
    }

    /** One command as written, where it is, and the output the doc shows for it (maybe none). */
    record Command(String file, int line, String text, List<String> expected) {
        String where() {
            return file + ":" + line;
        }
    }

    /** A shell block: its first line (the fence), its commands, its directives. */
    record Block(String file, int line, List<Command> commands, String skipReason, List<Integer> okExits,
                 Map<String, String> files, List<String> writes, List<String> problems) {
        boolean skipped() {
            return skipReason != null;
        }
    }

    static List<Block> parse(Path file, String displayName) throws IOException {
        return parse(Files.readAllLines(file, StandardCharsets.UTF_8), displayName);
    }

    static List<Block> parse(List<String> lines, String file) {
        List<Block> blocks = new ArrayList<>();
        List<String> directives = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            Matcher d = DIRECTIVE.matcher(line.strip());
            if (d.matches()) {
                directives.add(d.group(1));
                continue;
            }
            Matcher f = FENCE.matcher(line);
            if (!f.matches()) {
                if (!line.isBlank()) {
                    directives.clear(); // a directive applies to the block right after it only
                }
                continue;
            }
            String fence = f.group(1);
            String lang = f.group(2).toLowerCase();
            int start = i;
            List<String> body = new ArrayList<>();
            for (i++; i < lines.size() && !lines.get(i).strip().startsWith(fence); i++) {
                body.add(lines.get(i));
            }
            if (SHELL.contains(lang)) {
                blocks.add(block(file, start + 1, body, directives));
            }
            directives.clear();
        }
        return blocks;
    }

    private static Block block(String file, int fenceLine, List<String> body, List<String> directives) {
        String skip = null;
        List<Integer> okExits = new ArrayList<>(List.of(0));
        Map<String, String> files = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (String d : directives) {
            if (d.startsWith("skip")) {
                String reason = d.substring(4).strip();
                if (!reason.matches("\\(.+\\)")) {
                    problems.add(file + ":" + fenceLine + ": 'docs-check: skip' needs a reason in parentheses");
                }
                skip = reason.replaceAll("^\\(|\\)$", "");
            } else if (d.startsWith("exit ")) {
                for (String s : d.substring(5).replaceAll("\\(.*", "").strip().split("\\|")) {
                    okExits.add(Integer.parseInt(s.strip()));
                }
            } else if (d.startsWith("file ") && d.indexOf('=') > 5) {
                files.put(d.substring(5, d.indexOf('=')).strip(), d.substring(d.indexOf('=') + 1));
            } else {
                problems.add(file + ":" + fenceLine + ": unknown directive 'docs-check: " + d + "'");
            }
        }
        boolean session = body.stream().anyMatch(l -> l.startsWith("$ "));
        List<Command> commands = new ArrayList<>();
        for (int j = 0; j < body.size(); j++) {
            String raw = body.get(j);
            int lineNo = fenceLine + 1 + j;
            if (session) {
                if (!raw.startsWith("$ ")) {
                    continue; // output of the previous command, or prose between commands
                }
                StringBuilder cmd = new StringBuilder(raw.substring(2));
                while (endsWithContinuation(cmd) && j + 1 < body.size()) {
                    cmd.setLength(cmd.length() - 1);
                    cmd.append(' ').append(body.get(++j).strip());
                }
                List<String> out = new ArrayList<>();
                while (j + 1 < body.size() && !body.get(j + 1).startsWith("$ ") && !body.get(j + 1).isBlank()) {
                    out.add(body.get(++j));
                }
                commands.add(new Command(file, lineNo, stripComment(cmd.toString())[0], out));
            } else {
                if (raw.isBlank() || raw.strip().startsWith("#")) {
                    continue;
                }
                StringBuilder cmd = new StringBuilder(raw);
                while (endsWithContinuation(cmd) && j + 1 < body.size()) {
                    cmd.setLength(cmd.length() - 1);
                    cmd.append(' ').append(body.get(++j).strip());
                }
                String[] split = stripComment(cmd.toString());
                List<String> out = split[1] != null && OUTPUT_COMMENT.matcher(split[1]).matches()
                        ? List.of(split[1]) : List.of();
                commands.add(new Command(file, lineNo, split[0], out));
            }
        }
        List<String> writes = new ArrayList<>();
        for (Command c : commands) {
            Matcher read = READS_FILE.matcher(c.text());
            while (read.find()) {
                if (!writes.contains(read.group(1))) {
                    problems.add(c.where() + ": reads @" + read.group(1) + ", which no earlier command of the block creates;"
                            + " show the reader how to make it (e.g. printf '...' > " + read.group(1) + ")");
                }
            }
            Matcher write = WRITES_FILE.matcher(c.text());
            while (write.find()) {
                writes.add(write.group(1));
            }
        }
        return new Block(file, fenceLine, commands, skip, List.copyOf(okExits), files, List.copyOf(writes), problems);
    }

    private static boolean endsWithContinuation(CharSequence s) {
        String t = s.toString().stripTrailing();
        return t.endsWith("\\");
    }

    /** {command without an end-of-line comment, the comment's text or null}; quote-aware. */
    static String[] stripComment(String line) {
        boolean single = false;
        boolean dbl = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && !single) {
                i++;
            } else if (c == '\'' && !dbl) {
                single = !single;
            } else if (c == '"' && !single) {
                dbl = !dbl;
            } else if (c == '#' && !single && !dbl && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return new String[] {line.substring(0, i).strip(), line.substring(i + 1).strip()};
            }
        }
        return new String[] {line.strip(), null};
    }
}
