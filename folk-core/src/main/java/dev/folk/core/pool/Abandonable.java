package dev.folk.core.pool;

/**
 * A task that holds a worker and can be ended without running: what the pool does with it when no
 * thread could be started to run it before its deadline ({@link PoolExecutors}).
 */
interface Abandonable extends Runnable {

    /** Whether the task may no longer wait for a thread. */
    boolean expired();

    /** Ends the task without running it (on the housekeeper's thread): frees what it holds and fails its caller. */
    void abandon();
}
