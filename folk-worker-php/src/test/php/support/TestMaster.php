<?php

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\MessagePack\Codec;
use Folk\Worker\MessagePack\MessagePack;

/**
 * A minimal Folk master in PHP for end-to-end tests: starts `php <script>` with socket pairs at
 * fds 3 and 4 (all other descriptors above 4 closed, like the Java pool does), speaks the
 * framing, and waits with deadlines.
 */
final class TestMaster
{
    /** Closes every descriptor above $1 in the shell, then execs the rest of the arguments. */
    private const CLOSE_FDS = 'keep=$1; shift; for fd in /proc/$$/fd/*; do fd=${fd##*/}; '
        . 'if [ "$fd" -gt "$keep" ] && { [ -n "$BASH_VERSION" ] || [ "$fd" -le 9 ]; }; then eval "exec $fd>&-"; fi; done; exec "$@"';

    /** @var resource */
    private $process;
    /** @var resource|null master end of the task channel */
    private $task;
    /** @var resource|null master end of the control channel */
    private $control;
    private readonly int $pid;
    private ?int $exitCode = null;
    private int $nextId = 1;
    private readonly Codec $codec;

    /** @param resource|null $task @param resource|null $control */
    private function __construct($process, $task, $control, private readonly string $outFile, private readonly string $errFile)
    {
        $this->process = $process;
        $this->task = $task;
        $this->control = $control;
        $this->pid = proc_get_status($process)['pid'];
        $this->codec = MessagePack::codec();
    }

    /** Whether the runner runs without php.ini (`php -n`): its workers then do too. */
    public static function withoutIni(): bool
    {
        return php_ini_loaded_file() === false && php_ini_scanned_files() === false;
    }

    /**
     * The PHP arguments the workers run with: none, or `-n` and the shared extensions the runner
     * loaded itself (`php -n -d extension=msgpack run-tests.php`), so that both run in one mode.
     */
    public static function phpArgs(): array
    {
        if (!self::withoutIni()) {
            return [];
        }
        $args = ['-n'];
        foreach (get_loaded_extensions() as $extension) {
            $name = strtolower($extension);
            if (is_file(ini_get('extension_dir') . '/' . $name . '.so')) {
                array_push($args, '-d', 'extension=' . $name);
            }
        }
        return $args;
    }

    /**
     * Starts a worker.
     *
     * @param bool                 $ownGroup  run it as leader of a new process group (via setsid), as the Java pool does
     * @param int                  $channels  2: both channels; 1: only the task channel (fd 4 closed); 0: neither
     * @param string|null          $fd3File   open this file at fd 3 instead (with $channels = 0)
     * @param array<string,string> $env       extra environment
     * @param list<string>         $phpArgs   extra PHP options before the script, e.g. ['-d', 'default_socket_timeout=1']
     */
    public static function start(string $script, bool $ownGroup = false, int $channels = 2, ?string $fd3File = null, array $env = [], array $phpArgs = []): self
    {
        $out = tempnam(sys_get_temp_dir(), 'folk-out-');
        $err = tempnam(sys_get_temp_dir(), 'folk-err-');
        $descriptors = [0 => ['file', '/dev/null', 'r'], 1 => ['file', $out, 'w'], 2 => ['file', $err, 'w']];
        $task = $control = null;
        if ($channels >= 1) {
            $taskPair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, 0);
            $descriptors[3] = $taskPair[1];
            $task = $taskPair[0];
        }
        if ($channels >= 2) {
            $controlPair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, 0);
            $descriptors[4] = $controlPair[1];
            $control = $controlPair[0];
        } elseif ($fd3File !== null) {
            $descriptors[3] = ['file', $fd3File, 'r'];
        }
        $shell = is_executable('/bin/bash') ? '/bin/bash' : '/bin/sh';
        $command = [$shell, '-c', self::CLOSE_FDS, 'folk-test-spawn', (string) ($channels + 2 + ($fd3File !== null ? 1 : 0))];
        if ($ownGroup) {
            if (!is_executable('/usr/bin/setsid') && !is_executable('/bin/setsid')) {
                skip('setsid(1) is not installed');
            }
            $command[] = 'setsid';
        }
        array_push($command, PHP_BINARY, ...self::phpArgs(), ...$phpArgs);
        $command[] = $script;
        $environment = getenv() + ['FOLK_RUNTIME' => 'pipe', 'FOLK_TASK_FD' => '3', 'FOLK_CONTROL_FD' => '4'];
        $process = proc_open($command, $descriptors, $pipes, null, $env + $environment);
        if ($process === false) {
            fail('proc_open failed for ' . implode(' ', $command));
        }
        foreach ([$taskPair ?? null, $controlPair ?? null] as $pair) {
            if ($pair !== null) {
                fclose($pair[1]);
                stream_set_blocking($pair[0], false);
            }
        }
        return new self($process, $task, $control, $out, $err);
    }

    public function pid(): int
    {
        return $this->pid;
    }

    /** Reads the handshake and returns its params. */
    public function ready(float $timeout = 5.0): mixed
    {
        $message = $this->codec->unpack($this->readFrame($this->control, $timeout, 'control.ready'));
        assertTrue(is_array($message) && count($message) === 3 && $message[0] === 2, 'not a Notify: ' . show($message));
        assertSame('control.ready', $message[1], 'handshake method');
        return $message[2];
    }

    /** @return array{0: mixed, 1: mixed} [error, result] of one call */
    public function call(string $method, mixed $params = null, float $timeout = 5.0): array
    {
        $response = $this->exchange($method, $params, $timeout, 4);
        return [$response[2], $response[3]];
    }

    /**
     * Sends one call whose answer must say the worker exits after it (a 5th element
     * `{"exiting": true}`); returns [error, result].
     *
     * @return array{0: mixed, 1: mixed}
     */
    public function callExiting(string $method, mixed $params = null, float $timeout = 5.0): array
    {
        $response = $this->exchange($method, $params, $timeout, 5);
        assertSame(['exiting' => true], $response[4], 'the notes say the worker exits');
        return [$response[2], $response[3]];
    }

    /** Sends one request and returns its Response, which must have $elements elements. */
    private function exchange(string $method, mixed $params, float $timeout, int $elements): array
    {
        $id = $this->nextId++;
        $this->send($this->codec->pack([0, $id, $method, $params]));
        $response = $this->receive($timeout);
        assertTrue(is_array($response) && count($response) === $elements && $response[0] === 1,
            "not a Response of $elements elements: " . show($response));
        assertSame($id, $response[1], 'response msgid');
        return $response;
    }

    /** The result of a call that must succeed. */
    public function result(string $method, mixed $params = null): mixed
    {
        [$error, $result] = $this->call($method, $params);
        assertSame(null, $error, "call of $method failed");
        return $result;
    }

    /** Sends one frame, optionally split into chunks written with a pause (microseconds) in between. */
    public function send(string $payload, int $chunks = 1, int $pauseMicros = 20000): void
    {
        $this->sendRaw(pack('N', strlen($payload)) . $payload, $chunks, $pauseMicros);
    }

    public function sendRaw(string $bytes, int $chunks = 1, int $pauseMicros = 20000): void
    {
        $size = max(1, (int) ceil(strlen($bytes) / $chunks));
        foreach (str_split($bytes, $size) as $i => $chunk) {
            if ($i > 0) {
                usleep($pauseMicros);
            }
            $this->writeAll($chunk);
        }
    }

    /** Reads and decodes one frame from the task channel. */
    public function receive(float $timeout = 5.0): mixed
    {
        return $this->codec->unpack($this->readFrame($this->task, $timeout, 'a response'));
    }

    /** Everything the worker wrote on the task channel until it closed it (after the worker exited). */
    public function drainTasks(): string
    {
        $data = '';
        while (($chunk = fread($this->task, 65536)) !== false && $chunk !== '') {
            $data .= $chunk;
        }
        return $data;
    }

    public function closeTasks(): void
    {
        if ($this->task !== null) {
            fclose($this->task);
            $this->task = null;
        }
    }

    /** Waits for the worker to exit and returns its exit code. */
    public function waitExit(float $timeout = 5.0): int
    {
        waitUntil(fn (): bool => !$this->running(), $timeout, 'worker ' . $this->pid . ' exits');
        return $this->exitCode;
    }

    public function running(): bool
    {
        if ($this->exitCode !== null) {
            return false;
        }
        $status = proc_get_status($this->process);
        if ($status['running']) {
            return true;
        }
        // proc_get_status reports the exit code only once.
        $this->exitCode = $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
        return false;
    }

    public function stderr(): string
    {
        return (string) file_get_contents($this->errFile);
    }

    public function stdout(): string
    {
        return (string) file_get_contents($this->outFile);
    }

    /** Kills the worker if it still runs, closes everything, removes the temp files. */
    public function close(): void
    {
        if ($this->running()) {
            proc_terminate($this->process, 9);
            waitUntil(fn (): bool => !$this->running(), 5.0, 'killed worker exits');
        }
        $this->closeTasks();
        if ($this->control !== null) {
            fclose($this->control);
            $this->control = null;
        }
        proc_close($this->process);
        @unlink($this->outFile);
        @unlink($this->errFile);
    }

    /** Runs $body with a started worker and always cleans up. */
    public static function with(string $script, \Closure $body, bool $ownGroup = false, array $phpArgs = []): mixed
    {
        $master = self::start($script, $ownGroup, phpArgs: $phpArgs);
        try {
            return $body($master);
        } catch (\Throwable $e) {
            if ($e instanceof AssertionFailed && ($err = trim($master->stderr())) !== '') {
                throw new AssertionFailed($e->getMessage() . "\nworker stderr:\n" . $err, 0, $e);
            }
            throw $e;
        } finally {
            $master->close();
        }
    }

    private function writeAll(string $bytes): void
    {
        $deadline = hrtime(true) + 5_000_000_000;
        while ($bytes !== '') {
            $write = [$this->task];
            $none = null;
            if (stream_select($none, $write, $none, 0, 50000) === 1) {
                $n = fwrite($this->task, $bytes);
                if ($n === false) {
                    fail('write to the task channel failed');
                }
                $bytes = (string) substr($bytes, $n);
            }
            if (hrtime(true) > $deadline) {
                fail('timed out writing to the task channel');
            }
        }
    }

    /** @param resource $stream */
    private function readFrame($stream, float $timeout, string $what): string
    {
        $deadline = hrtime(true) + (int) ($timeout * 1e9);
        $buffer = '';
        $need = 4;
        while (strlen($buffer) < $need) {
            $left = $deadline - hrtime(true);
            if ($left <= 0) {
                fail(sprintf('timed out after %.1f s waiting for %s (got %d bytes); worker stderr: %s', $timeout, $what, strlen($buffer), $this->stderr()));
            }
            $read = [$stream];
            $none = null;
            if (stream_select($read, $none, $none, 0, (int) min(100000, $left / 1000)) !== 1) {
                continue;
            }
            $chunk = fread($stream, $need - strlen($buffer));
            if ($chunk === false || ($chunk === '' && feof($stream))) {
                fail(sprintf('end of stream while waiting for %s; worker stderr: %s', $what, $this->stderr()));
            }
            $buffer .= $chunk;
            if ($need === 4 && strlen($buffer) === 4) {
                $need = 4 + unpack('N', $buffer)[1];
            }
        }
        return substr($buffer, 4);
    }
}
