<?php

/*
 * The trace tests' worker (our library): what it was given of the call's trace context.
 *   http.handle   {traceparent, tracestate: the request's headers (null if absent), context: Worker::context()}
 *   context       Worker::context()
 */

declare(strict_types=1);

require __DIR__ . '/../../../../folk-worker-php/src/main/php/autoload.php';

use Folk\Worker\Http\Request;
use Folk\Worker\Http\Response;
use Folk\Worker\Worker;

$worker = new Worker();
$worker->http(static fn (Request $r): Response => Response::json([
    'traceparent' => $r->header('traceparent'),
    'tracestate' => $r->header('tracestate'),
    'context' => (object) Worker::context(),
]));
$worker->register('context', static fn (): array => Worker::context());
$worker->run();
