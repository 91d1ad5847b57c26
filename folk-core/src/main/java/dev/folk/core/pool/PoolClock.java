package dev.folk.core.pool;

/**
 * The pool's time, in {@link System#nanoTime()} units: every deadline, age and idle time the pool
 * decides by is read here, so tests can move time forward instead of waiting for it.
 */
@FunctionalInterface
interface PoolClock {

    PoolClock SYSTEM = System::nanoTime;

    long nanoTime();
}
