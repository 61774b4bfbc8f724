package io.jcomet.bench;

import java.io.PrintStream;
import java.util.Map;

/**
 * One benchmark scenario ({@code hold}, {@code fanout}, {@code publish}, {@code churn}, {@code soak}),
 * built over the shared parts of a {@link BenchRun}: the subscriber pool, the publishers, the server
 * probe and the result output. Runs on the scenario thread.
 */
abstract class Scenario {

    final BenchRun run;
    final Options o;
    final PrintStream out;

    Scenario(BenchRun run) {
        this.run = run;
        this.o = run.o;
        this.out = run.out;
    }

    /**
     * Runs the scenario: puts its figures and warnings into the run, prints its final table and sets
     * the chart. Returns the exit status: 0 passed, 1 a failed check.
     *
     * @param info0 the server's /info before the scenario started
     */
    abstract int run(Map<String, Object> info0) throws Exception;
}
