package dev.folk.core.util;

/**
 * Loads classes before they are needed, for code that must still run once the application's jar
 * is gone.
 *
 * <p>The JVM loads a class from its jar the first time code uses it. A deploy that copies a new
 * jar over the running one (the same file, new bytes) leaves the JVM's open zip index pointing
 * into another file: from then on, the first use of a class not yet loaded fails with
 * {@code NoClassDefFoundError}. A request that fails so fails alone; the kill-and-reap at
 * shutdown would end at the first missing class with the workers still running. So the shutdown
 * paths load what they use while the jar is still whole.
 */
public final class Preload {

    private Preload() {
    }

    /**
     * Loads and initialises each class and every class nested in it: member classes, anonymous
     * ones, and the tables javac adds for a switch on an enum ({@code Outer$1}), which are
     * otherwise loaded on the switch's first run. Lambdas need no loading of their own: the JVM
     * makes their classes in memory from classes already loaded.
     */
    public static void classes(Class<?>... classes) {
        for (Class<?> c : classes) {
            for (Class<?> member : c.getNestMembers()) { // the class itself first
                try {
                    Class.forName(member.getName(), true, member.getClassLoader());
                } catch (ClassNotFoundException e) {
                    throw new IllegalStateException("cannot load " + member.getName() + " for the shutdown path", e);
                }
            }
        }
    }
}
