package dev.folk.core.supervision;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * A lock-free set of live entries: an immutable array behind an atomic reference, replaced by
 * compare-and-set. A shutdown hook can take a consistent snapshot at any moment without waiting
 * on a lock some other (possibly stuck) thread holds. Writes copy the array, which is cheap at
 * pool sizes (spawns are rare next to calls).
 */
@SuppressWarnings("NullAway") // entries always holds an array, never null
final class Registry<T> {

    private final AtomicReference<T[]> entries;

    Registry(IntFunction<T[]> arrayFactory) {
        this.entries = new AtomicReference<>(arrayFactory.apply(0));
    }

    void add(T entry) {
        while (true) {
            T[] current = entries.get();
            T[] next = Arrays.copyOf(current, current.length + 1);
            next[current.length] = entry;
            if (entries.compareAndSet(current, next)) {
                return;
            }
        }
    }

    /** Removes by identity; false if absent. */
    boolean remove(T entry) {
        while (true) {
            T[] current = entries.get();
            int index = -1;
            for (int i = 0; i < current.length; i++) {
                if (current[i] == entry) {
                    index = i;
                    break;
                }
            }
            if (index < 0) {
                return false;
            }
            T[] next = Arrays.copyOf(current, current.length - 1);
            System.arraycopy(current, index + 1, next, index, current.length - index - 1);
            if (entries.compareAndSet(current, next)) {
                return true;
            }
        }
    }

    /** An immutable snapshot. */
    List<T> snapshot() {
        return List.of(entries.get());
    }

    int size() {
        return entries.get().length;
    }
}
