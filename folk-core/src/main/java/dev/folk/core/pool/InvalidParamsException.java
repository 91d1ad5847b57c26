package dev.folk.core.pool;

/**
 * The call's params cannot be sent: a value of a type the protocol does not encode (see
 * {@link dev.folk.core.protocol.Values}) nor the pool's {@link ValueMapper} converts, a map with a
 * null key, a cycle or nesting deeper than 256 levels. The message names the path of the value,
 * e.g. {@code params.lines[2].amount}. Nothing was sent; the worker stays idle and healthy.
 */
public class InvalidParamsException extends CallException {

    InvalidParamsException(String pool, String method, IllegalArgumentException cause) {
        super(pool, method, 0, call(pool, method) + " rejected, nothing was sent: " + cause.getMessage()
                + ". Params are the protocol's types (dev.folk.core.protocol.Values), or records and POJOs with "
                + "a value mapper that knows them.", cause);
    }

    @Override
    public boolean retryable() {
        return false;
    }
}
