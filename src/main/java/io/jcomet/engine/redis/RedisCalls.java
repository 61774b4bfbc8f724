package io.jcomet.engine.redis;

import io.jcomet.core.CometException;
import io.jcomet.core.Stats;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How the engine calls Redis and waits for it: scripts by SHA (the text once, on NOSCRIPT), every
 * wait bounded by redis_timeout, and every failure a 503 counted as engine_unavailable; a
 * publish's 503 also says whether the message may have been published. Thread-safe: request
 * threads wait here; Lettuce's I/O threads complete the futures.
 */
final class RedisCalls {
    static final String NOT_PUBLISHED = "the message was not published";
    static final String OUTCOME_UNKNOWN = "the outcome is unknown: the message may have been published;"
            + " retry with the same idempotency_key to publish it at most once";

    private final RedisLink link;
    final long timeoutMillis;
    /** The broker's counters, once the engine started (refusals before that are not counted). */
    volatile Stats stats;

    RedisCalls(RedisLink link, long timeoutMillis) {
        this.link = link;
        this.timeoutMillis = timeoutMillis;
    }

    <T> CompletableFuture<T> evalAsync(Scripts.Script s, ScriptOutputType type, String[] keys, String... args) {
        // Lettuce's command is itself the future: no second one unless Redis lacks the script
        CompletableFuture<T> f = link.commands().<T>evalsha(s.sha(), type, keys, args).toCompletableFuture();
        return f.exceptionallyCompose(e -> {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c instanceof RedisNoScriptException || String.valueOf(c.getMessage()).startsWith("NOSCRIPT")) {
                // first use on this server (or it restarted): send the text once, Redis caches it
                return link.commands().<T>eval(s.text(), type, keys, args).toCompletableFuture();
            }
            return CompletableFuture.failedFuture(c);
        });
    }

    /** Waits for Redis at most redis_timeout; anything else than an answer is a 503 ({@link #answer}). */
    <T> T await(CompletableFuture<T> f, String what) {
        try {
            return answer(f, what).get(); // bounded: answer completes within redis_timeout
        } catch (ExecutionException e) {
            throw (CometException) e.getCause(); // answer completes exceptionally only with these
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(what + ": interrupted");
        }
    }

    /**
     * An answer from Redis without a thread waiting: completes with it, or with a {@link
     * CometException} (the one the call failed with, else a counted 503), at most redis_timeout
     * after this call (the command then fails with a timeout).
     */
    <T> CompletableFuture<T> answer(CompletableFuture<T> f, String what) {
        CompletableFuture<T> out = new CompletableFuture<>();
        f.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS).whenComplete((r, e) -> {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c == null) {
                out.complete(r);
            } else if (c instanceof CometException ce) {
                out.completeExceptionally(ce);
            } else if (c instanceof TimeoutException) {
                out.completeExceptionally(unavailable(what + ": no answer from Redis within redis_timeout (" + timeoutMillis + " ms)"));
            } else {
                out.completeExceptionally(unavailable(what + ": " + c.getMessage()));
            }
        });
        return out;
    }

    /**
     * Waits for a stage whose every step is already bounded by redis_timeout ({@link #answer}),
     * however many steps it has; its refusal is thrown as it is, anything else is a counted 503.
     */
    <T> T join(CompletableFuture<T> f, String what) {
        try {
            return f.get(); // bounded: each step completes within redis_timeout
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof CometException ce) {
                throw ce;
            }
            throw unavailable(what + ": " + c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable(what + ": interrupted");
        }
    }

    /** Waits for a publish; a failure tells whether the script may have run. */
    List<Object> awaitPublish(CompletableFuture<List<Object>> f) {
        try {
            return f.get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(false);
            throw publishFailure(e);
        } catch (ExecutionException e) {
            throw publishFailure(e.getCause() == null ? e : e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unavailable("publish: interrupted; " + OUTCOME_UNKNOWN);
        }
    }

    /**
     * A publish that answers without a thread waiting ({@link #awaitPublish}'s outcomes): completes
     * with the answer, or with the same {@link CometException} awaitPublish throws, at most
     * redis_timeout after this call.
     */
    CompletableFuture<List<Object>> publishAnswer(CompletableFuture<List<Object>> f) {
        CompletableFuture<List<Object>> out = new CompletableFuture<>();
        f.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS).whenComplete((r, e) -> {
            if (e == null) {
                out.complete(r);
            } else {
                out.completeExceptionally(publishFailure(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e));
            }
        });
        return out;
    }

    /** Why a publish failed, as a counted 503 that says whether the script may have run. */
    CometException publishFailure(Throwable c) {
        if (c instanceof CometException ce) {
            return ce; // refused before anything was sent (a /batch channel over max_channels)
        }
        if (c instanceof TimeoutException) {
            return unavailable("publish: no answer within redis_timeout (" + timeoutMillis + " ms); " + OUTCOME_UNKNOWN);
        }
        String msg = String.valueOf(c.getMessage());
        // Lettuce refuses a command at once while disconnected (it never reached Redis); a script
        // error is Redis refusing it before any write
        boolean notSent = msg.contains("not connected") || msg.contains("Commands are rejected")
                || c instanceof io.lettuce.core.RedisCommandExecutionException;
        return unavailable("publish: " + msg + "; " + (notSent ? NOT_PUBLISHED : OUTCOME_UNKNOWN));
    }

    /** A 503, counted. */
    CometException unavailable(String why) {
        Stats s = stats;
        if (s != null) {
            s.addReject(Stats.Reject.ENGINE_UNAVAILABLE);
        }
        return new CometException(503, Stats.Reject.ENGINE_UNAVAILABLE, "Redis unavailable: " + why);
    }
}
