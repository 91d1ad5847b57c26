<?php

/*
 * The CPU a PHP worker spends per http.handle call, against the floor (floor.php: read, unpack,
 * pack, write, nothing else), in alternating rounds. Each worker runs on socket pairs at fds 3
 * and 4 as under a Folk master; this script is the master, one call at a time, sending what the
 * HTTP gateway sends for GET /php/hello (the params' shape is the gateway's, server facts
 * included). The worker's user and system CPU come from /proc/<pid>/stat.
 *
 *     php benchmarks/scripts/worker-cost/worker-cost.php [-n calls] [-r rounds] [-- php args... script]
 *
 * Default worker: php benchmarks/scripts/fpm/www/worker.php (folk-worker-php's HTTP handler).
 * Prints one line per round and the medians. Needs php-cli and php-msgpack.
 */

declare(strict_types=1);

$opts = getopt('n:r:h', [], $rest);
if (isset($opts['h'])) {
    fwrite(STDOUT, "usage: php worker-cost.php [-n calls] [-r rounds] [-- php args... script]\n");
    exit(0);
}
$calls = (int) ($opts['n'] ?? 20000);
$rounds = (int) ($opts['r'] ?? 5);
$args = array_slice($argv, $rest);
if (($args[0] ?? null) === '--') {
    array_shift($args);
}
$here = __DIR__;
$ours = $args !== [] ? $args : [PHP_BINARY, "$here/../fpm/www/worker.php"];
$floor = [PHP_BINARY, "$here/floor.php"];

$params = require "$here/hello-params.php";

/** Starts a worker with socket pairs at fds 3 and 4 and waits for its handshake. */
function start(array $command): array
{
    $proc = proc_open($command, [0 => ['file', '/dev/null', 'r'], 3 => ['socket'], 4 => ['socket']], $pipes);
    if ($proc === false) {
        fwrite(STDERR, 'cannot start ' . implode(' ', $command) . "\n");
        exit(1);
    }
    $length = unpack('N', fread($pipes[4], 4))[1];
    $ready = msgpack_unpack(fread($pipes[4], $length));
    if (($ready[1] ?? null) !== 'control.ready') {
        fwrite(STDERR, implode(' ', $command) . " did not say ready\n");
        exit(1);
    }
    return [$proc, $pipes[3], proc_get_status($proc)['pid']];
}

/** Microseconds of user and system CPU the process has used. */
function cpu(int $pid): array
{
    $stat = file_get_contents("/proc/$pid/stat");
    $fields = explode(' ', substr($stat, strrpos($stat, ')') + 2));
    return [(int) $fields[11] * 1e6 / 100, (int) $fields[12] * 1e6 / 100]; // USER_HZ is 100 on Linux
}

/** Sends $n calls one at a time; returns [calls/s, user us/call, system us/call]. */
function drive($task, int $pid, array $params, int $n, int &$msgid): array
{
    [$u0, $s0] = cpu($pid);
    $t0 = hrtime(true);
    for ($i = 0; $i < $n; $i++) {
        $frame = msgpack_pack([0, ++$msgid, 'http.handle', $params]);
        fwrite($task, pack('N', strlen($frame)) . $frame);
        $length = unpack('N', fread($task, 4))[1];
        $answer = msgpack_unpack(fread($task, $length));
        if (($answer[3]['status'] ?? null) !== 200 || $answer[1] !== $msgid) {
            fwrite(STDERR, 'unexpected answer: ' . json_encode($answer) . "\n");
            exit(1);
        }
    }
    $seconds = (hrtime(true) - $t0) / 1e9;
    [$u1, $s1] = cpu($pid);
    return [$n / $seconds, ($u1 - $u0) / $n, ($s1 - $s0) / $n];
}

$workers = ['ours' => start($ours), 'floor' => start($floor)];
$msgid = 0;
foreach ($workers as [$proc, $task, $pid]) {
    drive($task, $pid, $params, intdiv($calls, 4), $msgid); // warm-up
}
$results = [];
for ($r = 1; $r <= $rounds; $r++) {
    foreach ($workers as $name => [$proc, $task, $pid]) {
        $results[$name][] = $res = drive($task, $pid, $params, $calls, $msgid);
        printf("round %d %-5s %7.0f calls/s  user %5.1f us  system %5.1f us per call\n", $r, $name, ...$res);
    }
}
$median = static function (array $values): float {
    sort($values);
    $n = count($values);
    return $n % 2 ? $values[intdiv($n, 2)] : ($values[$n / 2 - 1] + $values[$n / 2]) / 2;
};
foreach ($results as $name => $rows) {
    printf("median %-5s user %5.1f us  system %5.1f us  total %5.1f us per call\n", $name,
        $median(array_column($rows, 1)), $median(array_column($rows, 2)),
        $median(array_map(static fn (array $row): float => $row[1] + $row[2], $rows)));
}
$ratios = array_map(static fn (array $o, array $f): float => ($o[1] + $o[2]) / ($f[1] + $f[2]), $results['ours'], $results['floor']);
printf("ours / floor, CPU per call: %.2fx (%.2f..%.2f over rounds)\n", $median($ratios), min($ratios), max($ratios));
foreach ($workers as [$proc, $task]) {
    fclose($task);
    proc_close($proc);
}
