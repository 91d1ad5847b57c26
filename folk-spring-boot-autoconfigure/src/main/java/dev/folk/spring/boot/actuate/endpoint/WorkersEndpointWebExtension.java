package dev.folk.spring.boot.actuate.endpoint;

import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.EndpointWebExtension;

import dev.folk.spring.boot.actuate.endpoint.WorkersEndpoint.RecycleDescriptor;
import dev.folk.spring.boot.actuate.endpoint.WorkersEndpoint.ResetDescriptor;

/**
 * HTTP status codes for the {@code workers} endpoint's write and delete operations: 202 Accepted
 * when the reset or recycle was started, 404 Not Found for an unknown pool or a pid that is not
 * one of the pool's live workers (reads return 404 for an unknown pool on their own).
 */
@EndpointWebExtension(endpoint = WorkersEndpoint.class)
public class WorkersEndpointWebExtension {

    static final int STATUS_ACCEPTED = 202;

    private final WorkersEndpoint delegate;

    public WorkersEndpointWebExtension(WorkersEndpoint delegate) {
        this.delegate = delegate;
    }

    @WriteOperation
    public WebEndpointResponse<ResetDescriptor> reset(@Selector String pool) {
        ResetDescriptor result = delegate.reset(pool);
        return result == null ? new WebEndpointResponse<>(WebEndpointResponse.STATUS_NOT_FOUND)
                : new WebEndpointResponse<>(result, STATUS_ACCEPTED);
    }

    @DeleteOperation
    public WebEndpointResponse<RecycleDescriptor> recycle(@Selector String pool, @Selector String pid) {
        RecycleDescriptor result = delegate.recycle(pool, pid);
        return result == null ? new WebEndpointResponse<>(WebEndpointResponse.STATUS_NOT_FOUND)
                : new WebEndpointResponse<>(result, STATUS_ACCEPTED);
    }
}
