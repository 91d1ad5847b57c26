package dev.folk.core.util;

import java.util.concurrent.ThreadFactory;

/**
 * The daemon threads Folk starts, each with the class loader that loaded Folk as its context class
 * loader instead of the one of the thread that happened to create it.
 *
 * <p>Why: in a Spring Boot application whose own filter needs a pool, the pools and the supervisor
 * are made while Tomcat starts its web application, on a thread whose context class loader is the
 * web application's. When that start fails (another of its filters cannot be made), Tomcat stops the
 * web application at once, before Spring closes our beans, and warns that every thread still
 * holding its class loader "has failed to stop" and is "very likely to create a memory leak": a
 * false alarm beside the real failure. Our threads hold nothing of the web application's, and
 * Spring stops them right after.
 *
 * <p>Threads that run the application's own code keep the loader of the thread that made them (a
 * pool's threads complete the futures of {@code callAsync}; readiness changes reach the application's
 * listeners): code there may look classes up through it, Spring DevTools' restart loader for one.
 */
public final class DaemonThreads {

    private DaemonThreads() {
    }

    /** A daemon thread, not started. */
    public static Thread newThread(Runnable task, String name) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.setContextClassLoader(DaemonThreads.class.getClassLoader());
        return t;
    }

    /** Daemon threads named {@code name}. */
    public static ThreadFactory named(String name) {
        return r -> newThread(r, name);
    }
}
