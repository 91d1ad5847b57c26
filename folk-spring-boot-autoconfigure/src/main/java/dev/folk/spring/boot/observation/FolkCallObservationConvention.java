package dev.folk.spring.boot.observation;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/**
 * Names and key-values of pool call observations; a bean of this type replaces
 * {@link DefaultFolkCallObservationConvention}.
 */
public interface FolkCallObservationConvention extends ObservationConvention<FolkCallContext> {

    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof FolkCallContext;
    }
}
