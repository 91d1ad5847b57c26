package dev.folk.core.pool;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;

/**
 * A result type with its generic arguments, for typed calls whose result is generic:
 * {@code pool.call("orders.list", params, new ResultType<List<Order>>() {})}. Subclass it
 * (anonymously) so that the type argument survives erasure.
 *
 * @param <T> the result type
 */
public abstract class ResultType<T> {

    private final Type type;

    protected ResultType() {
        Type superclass = getClass().getGenericSuperclass();
        if (!(superclass instanceof ParameterizedType p)) {
            throw new IllegalStateException("ResultType must be created with its type argument: "
                    + "new ResultType<List<Order>>() {}");
        }
        this.type = p.getActualTypeArguments()[0];
    }

    /** The captured type, e.g. {@code java.util.List<com.example.Order>}. */
    public Type type() {
        return type;
    }

    @Override
    public String toString() {
        return "ResultType<" + type.getTypeName() + ">";
    }
}
