package dev.folk.spring.boot.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;

import dev.folk.spring.boot.observation.DefaultFolkCallObservationConvention;

/**
 * Descriptions for the meters Micrometer's observation handler makes of the {@code folk.call}
 * observations, which it registers without one: Prometheus would show them with an empty
 * {@code # HELP}, where every other {@code folk_*} meter says what it counts. Applied once per
 * meter, when it is registered.
 */
public final class FolkCallMeterDescriptions implements MeterFilter {

    static final String TIMER = DefaultFolkCallObservationConvention.NAME;
    static final String ACTIVE = DefaultFolkCallObservationConvention.NAME + ".active";

    @Override
    public Meter.Id map(Meter.Id id) {
        if (id.getDescription() != null) {
            return id;
        }
        String description = switch (id.getName()) {
            case TIMER -> id.getType() == Meter.Type.TIMER
                    ? "Pool calls, waiting for a free worker included, by pool and outcome (the folk.call observation)"
                    : null;
            case ACTIVE -> id.getType() == Meter.Type.LONG_TASK_TIMER
                    ? "Pool calls running or waiting for a worker now (the folk.call observation)" : null;
            default -> null;
        };
        return description == null ? id
                : new Meter.Id(id.getName(), Tags.of(id.getTagsAsIterable()), id.getBaseUnit(), description, id.getType());
    }
}
