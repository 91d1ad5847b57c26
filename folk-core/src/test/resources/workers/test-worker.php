<?php
// The worker the pool tests drive: our PHP library plus methods that misbehave on request.
declare(strict_types=1);

require __DIR__ . '/../../../../../folk-worker-php/src/main/php/autoload.php';

use Folk\Worker\Worker;

$worker = new Worker();
$worker->register('pid', fn () => getmypid());
// The order in which this worker received its calls: [n-th call, params].
$worker->register('seq', function ($params) {
    static $n = 0;
    return [++$n, $params];
});
// What PHP made of the params: [its type, the params].
$worker->register('describe', fn ($params) => [get_debug_type($params), $params]);
// An array nested $levels deep, with a string at its bottom.
$worker->register('nest', function ($levels) {
    $value = 'bottom';
    for ($i = 0; $i < (int) $levels; $i++) {
        $value = [$value];
    }
    return $value;
});
// A handler that wants an array.
$worker->register('count', fn (array $items) => count($items));
// A handler without parameters.
$worker->register('none', fn () => 'none');
// Sleeps $ms in a named function, going back to sleep when a signal (a backtrace request) cuts
// a usleep() short, as robust code does.
function sleep_until(float $deadline): void
{
    while (($left = $deadline - microtime(true)) > 0) {
        usleep((int) min($left * 1e6, 50000));
    }
}
$worker->register('sleep_in_function', function ($ms) {
    sleep_until(microtime(true) + (int) $ms / 1000);
    return $ms;
});
$worker->register('sleep', function ($ms) {
    usleep((int) $ms * 1000);
    return $ms;
});
// Waits $ms ms for a child's output (a read PHP restarts after a signal, as a database query's).
$worker->register('shell_sleep', function ($ms) {
    shell_exec('sleep ' . ((int) $ms / 1000));
    return $ms;
});
// Writes [0] as a line to stderr, then sleeps [1] ms.
$worker->register('say', function (array $params) {
    fwrite(STDERR, $params[0] . "\n");
    usleep((int) $params[1] * 1000);
    return 'said';
});
// Writes [0] to stderr without a newline (as error_log($m, 3, 'php://stderr') does), then sleeps [1] ms.
$worker->register('say_partial', function (array $params) {
    fwrite(STDERR, $params[0]);
    usleep((int) $params[1] * 1000);
    return 'said';
});
// Starts a child in our process group, then sleeps: an exec timeout must take both.
$worker->register('sleep_with_child', function ($seconds) {
    exec('sleep ' . (int) $seconds . ' > /dev/null 2>&1 &');
    sleep((int) $seconds);
    return 'woke';
});
// Starts a long `sleep` child, then sleeps $ms: the child must not outlive the worker.
$worker->register('child_then_sleep', function ($ms) {
    exec('sleep 1000 > /dev/null 2>&1 &');
    usleep((int) $ms * 1000);
    return getmypid();
});
// Starts $n background jobs through a shell that exits at once: each job is orphaned.
$worker->register('orphans', function ($n) {
    for ($i = 0; $i < (int) $n; $i++) {
        exec('sh -c "sleep 0.05 > /dev/null 2>&1 &"');
    }
    return (int) $n;
});
// Dies during the call with exit code $code and no answer, as a worker of another library would:
// the answer folk-worker-php gives a handler that exits ('exit-answered') exits again, unanswered.
$worker->register('exit', function ($code) {
    Worker::answerOnExit(static function () use ($code): never {
        exit((int) $code);
    });
    exit((int) $code);
});
// Exits as PHP code does, and gets the library's answer to that: an error marked as the worker's last.
$worker->register('exit-answered', function ($code) {
    exit((int) $code);
});
// A real fatal error (memory exhaustion cannot be caught): the PHP process dies with exit 255.
$worker->register('fatal', function () {
    ini_set('memory_limit', '32M');
    return strlen(str_repeat('x', 64 * 1024 * 1024));
});
$worker->register('throw', function ($message) {
    throw new RuntimeException((string) $message);
});
// Prints $bytes bytes to stdout in 64 KiB lines, then answers.
$worker->register('print', function ($bytes) {
    $line = str_repeat('x', 65535) . "\n";
    for ($left = (int) $bytes; $left > 0; $left -= 65536) {
        echo $left >= 65536 ? $line : str_repeat('y', $left);
    }
    return 'printed';
});
// Answers $bytes bytes: a large result from a small request.
$worker->register('repeat', fn ($bytes) => str_repeat('r', (int) $bytes));
// Sends $n Notify parts ["part", i] ahead of its answer (a streamed answer), then answers "done".
$worker->register('parts', function ($n) {
    for ($i = 0; $i < (int) $n; $i++) {
        Worker::sendPart('part', $i);
    }
    return 'done';
});
// Grows resident memory by $mb MiB and keeps it (a leak, as far as the pool can tell).
$worker->register('alloc', function ($mb) {
    static $hoard = [];
    $hoard[] = str_repeat('m', (int) $mb * 1024 * 1024);
    return memory_get_usage(true);
});
// Grows resident memory by 16 MiB every 20 ms up to $mb MiB (a runaway request), then answers.
$worker->register('grow', function ($mb) {
    $hoard = [];
    for ($i = 0; $i < intdiv((int) $mb, 16); $i++) {
        $hoard[] = str_repeat(chr(65 + $i % 26), 16 * 1024 * 1024);
        usleep(20000);
    }
    return count($hoard);
});
// The same growth in a process forked for the call, as Folk\Worker\Scripts runs a request; the
// worker waits for it. The child ends with SIGKILL, so nothing of the worker's runs again in it.
// A process forked for the call (as Scripts runs a request) holds [0] MB for [1] ms, then ends.
$worker->register('hold_in_child', function (array $params) {
    $child = pcntl_fork();
    if ($child === 0) {
        $hoard = str_repeat('h', (int) $params[0] * 1024 * 1024);
        usleep((int) $params[1] * 1000);
        posix_kill(posix_getpid(), SIGKILL);
    }
    pcntl_waitpid($child, $status);
    return 'held';
});
$worker->register('grow_in_child', function ($mb) {
    $child = pcntl_fork();
    if ($child === 0) {
        $hoard = [];
        for ($i = 0; $i < intdiv((int) $mb, 16); $i++) {
            $hoard[] = str_repeat(chr(65 + $i % 26), 16 * 1024 * 1024);
            usleep(20000);
        }
        posix_kill(posix_getpid(), SIGKILL);
    }
    pcntl_waitpid($child, $status);
    return 'child ended';
});
$worker->run();
