<?php

/*
 * The floor for worker-cost.php: what a PHP process must do per http.handle call at the least
 * (read a frame from fd 3, unpack it, pack the same answer as fpm/www/worker.php's hello, write
 * it), without folk-worker-php. Not a Folk worker for any other use: no checks, no errors.
 */

declare(strict_types=1);

$task = fopen('php://fd/3', 'r+b');
$control = fopen('php://fd/4', 'r+b');
stream_set_timeout($task, -1);
$ready = msgpack_pack([2, 'control.ready', ['pid' => getmypid()]]);
fwrite($control, pack('N', strlen($ready)) . $ready);
while (($header = fread($task, 4)) !== false && strlen($header) === 4) {
    $request = msgpack_unpack(fread($task, unpack('N', $header)[1]));
    $answer = msgpack_pack([1, $request[1], null, ['status' => 200, 'headers' => [], 'body' => "Hello from PHP\n"]]);
    fwrite($task, pack('N', strlen($answer)) . $answer);
}
