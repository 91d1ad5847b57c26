/**
 * Auto-configuration of the HTTP gateway ({@code folk.http.*}).
 */
@NullMarked
package dev.folk.spring.boot.autoconfigure.http;

import org.jspecify.annotations.NullMarked;
