/**
 * The worker pool: {@link dev.folk.core.pool.WorkerPool} and what it is configured with, reports and
 * throws.
 *
 * <h2>Who does what</h2>
 * <ul>
 * <li>{@code WorkerPool} — the public facade: call, callAsync, tryCall, reset, recycle, snapshot,
 *     close. Builds the parts below and wires them.</li>
 * <li>{@code Dispatcher} — the idle workers and the FIFO queue of waiting calls; acquire and give
 *     back under one short lock.</li>
 * <li>{@code CallRunner} — runs a call on an acquired worker and classifies its failure (exec
 *     timeout, memory limit, crash, protocol error, pool closed, or not delivered: retried on
 *     another worker). With a {@code CallObserver} (tracing), it also tells the call's
 *     {@code CallObservation} where the call ran and how it ended, and sends its context to a worker
 *     that declared the {@code context} feature.</li>
 * <li>{@code WorkerLifecycle} — slots, spawns and the handshake, giving a worker back after a
 *     call, due workers and their replacements (make before break).</li>
 * <li>{@code WorkerExits} — retiring a worker, stopping its process, recording its exit; what a
 *     worker that never served says about the script (boot failure or kill from outside).</li>
 * <li>{@code Housekeeper} — the periodic tick (50 ms, once a second while every worker is idle):
 *     exec and boot deadlines, max-jobs, max-lifetime, max-idle (an elastic pool's shrinking),
 *     memory. {@code ElasticSize} — when an elastic pool grows.</li>
 * <li>{@code SlowCalls} — the slow-call log and the PHP stack before an exec-timeout kill, for
 *     the housekeeper.</li>
 * <li>{@code PoolHealth} — the pool's state, closing, boot failures, back-off ({@code BootBackoff})
 *     and BROKEN.</li>
 * <li>{@code PoolStatistics} — counters, saturation (busy, maxima, {@code RecentMax}), recent exits,
 *     listeners. {@code RollingReset} —
 *     {@code reset()}. {@code PoolExecutors} — the pool's threads.</li>
 * <li>{@code WorkerHost} and {@code WorkerLink} — the seam to the processes (spawn, handshake, task
 *     channel, exit, stop); {@code SupervisedHost} is the real one. {@code PoolClock} — the pool's
 *     time. Tests drive the pool's logic through both without processes.</li>
 * </ul>
 *
 * <h2>Words for a worker's way through the pool</h2>
 * Code, comments and log messages use these, and only these:
 * <dl>
 * <dt>acquire</dt>
 * <dd>A call takes a worker: an idle one at once, or the next one given back after waiting in the
 *     FIFO queue (bounded by max-queue and acquire-timeout).</dd>
 * <dt>give back</dt>
 * <dd>After a call the worker returns to the pool: to the oldest waiting call, else to the front
 *     of the idle list.</dd>
 * <dt>due</dt>
 * <dd>It should go — max-jobs, max-lifetime, max-idle, max-memory, or {@code recycle(pid)} — but
 *     keeps serving until its replacement is ready: make before break. {@code reset()} makes each
 *     worker due in turn.</dd>
 * <dt>recycle</dt>
 * <dd>Make a worker due on request ({@code recycle(pid)}, the workers endpoint). Max-jobs,
 *     max-lifetime, max-idle and max-memory are its recycling limits.</dd>
 * <dt>replace</dt>
 * <dd>A new worker is ready, so the oldest due worker is retired: at once if idle, else when it is
 *     given back.</dd>
 * <dt>retire</dt>
 * <dd>Take a worker out of the pool, exactly once: it stops counting toward the size, its slot is
 *     freed and a replacement spawns at once. Every way out — a crash, a timeout, a limit, a reset,
 *     close — goes through it.</dd>
 * <dt>stop</dt>
 * <dd>End a retired worker's process: gracefully (close fd 3, give it close-wait to exit on its
 *     own, then the TERM → grace → KILL ladder) or by killing its process group at once.</dd>
 * <dt>exit</dt>
 * <dd>The process ended and was reaped: the pool records an {@link dev.folk.core.pool.ExitRecord}
 *     with its {@link dev.folk.core.pool.ExitReason} (whose tags are public) and tells its
 *     listeners.</dd>
 * </dl>
 * "Release" is the supervisor's word (close a reaped worker's descriptors and unregister it) and is
 * not used for the pool; neither are "leave" or "claim".
 */
@NullMarked
package dev.folk.core.pool;

import org.jspecify.annotations.NullMarked;
