/**
 * The HTTP gateway: requests under its routes become {@code http.handle} calls on a pool, and PHP's
 * answers become responses, as a FastCGI server and a reverse proxy would make them.
 */
@NullMarked
package dev.folk.spring.boot.http;

import org.jspecify.annotations.NullMarked;
