/**
 * Health of worker pools for Spring Boot's health support.
 */
@NullMarked
package dev.folk.spring.boot.health;

import org.jspecify.annotations.NullMarked;
