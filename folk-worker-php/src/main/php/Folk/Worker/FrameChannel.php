<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * One framed channel: `[u32 big-endian length][payload]`, 1 .. 16 MiB per payload unless the
 * master says otherwise ({@see limitFromEnvironment()}).
 *
 * Reads and writes loop over partial transfers. The stream must be blocking.
 */
final class FrameChannel
{
    /** The protocol's payload limit, and the limit of a master that does not name its own. */
    public const MAX_PAYLOAD = 16 * 1024 * 1024;

    /** Where a Folk master names its payload limit, in bytes (the pool's `max-frame-length`). */
    public const LIMIT_VARIABLE = 'FOLK_MAX_FRAME_LENGTH';

    /** @var resource */
    private $stream;

    /**
     * @param resource $stream     a blocking, readable and/or writable stream
     * @param string   $name       used in error messages, e.g. "task channel (fd 3)"
     * @param int      $maxPayload the largest payload read or written, in bytes
     */
    public function __construct($stream, private readonly string $name, private readonly int $maxPayload = self::MAX_PAYLOAD)
    {
        if (!is_resource($stream)) {
            throw new \InvalidArgumentException('a stream resource is required');
        }
        if ($maxPayload < 1) {
            throw new \InvalidArgumentException(sprintf('the payload limit must be positive, got %d', $maxPayload));
        }
        $this->stream = $stream;
    }

    /**
     * The payload limit the master asks for: a master whose limit is not the protocol's 16 MiB
     * says so in FOLK_MAX_FRAME_LENGTH, and a worker that kept to 16 MiB would refuse a larger
     * request (the master's frame would end the worker) or send an answer the master refuses
     * (which costs the worker too) instead of failing that one call with the reason.
     *
     * @throws \RuntimeException with a message fit for stderr if the variable is not a byte count
     */
    public static function limitFromEnvironment(): int
    {
        $value = getenv(self::LIMIT_VARIABLE);
        if ($value === false || $value === '') {
            return self::MAX_PAYLOAD;
        }
        if (preg_match('/^[0-9]{1,10}$/', $value) !== 1 || (int) $value < 16 || (int) $value > 0x7fffffff) {
            throw new \RuntimeException(sprintf(
                '%s must be a number of bytes from 16 to 2147483647, got "%s"; it is the master\'s '
                . 'frame limit (a Folk pool sets it from its max-frame-length)',
                self::LIMIT_VARIABLE,
                $value,
            ));
        }
        return (int) $value;
    }

    /**
     * Opens the two inherited channel descriptors, refusing anything that is not a socket or a
     * pipe.
     *
     * This is what keeps a worker that was started without fds 3 and 4 from writing into
     * whatever PHP happened to open at those numbers (usually its own script). Both numbers are
     * checked through /proc before anything is opened: opening php://fd/N dup()s N onto the
     * lowest free number, which could be the other, missing, channel. The opened descriptors are
     * checked again with fstat, including that they are two different sockets.
     *
     * @param int $maxPayload the largest payload either channel reads or writes
     * @return array{0: self, 1: self} [task channel, control channel]
     * @throws \RuntimeException with a message fit for stderr
     */
    public static function openInherited(int $taskFd, int $controlFd, int $maxPayload = self::MAX_PAYLOAD): array
    {
        $roles = [$taskFd => 'task channel', $controlFd => 'control channel'];
        if (count($roles) !== 2) {
            throw new \RuntimeException(sprintf('the task and control channels must be different fds, both are %d', $taskFd));
        }
        if (is_dir('/proc/self/fd')) {
            foreach ($roles as $fd => $role) {
                clearstatcache(true, '/proc/self/fd/' . $fd);
                $stat = @stat('/proc/self/fd/' . $fd);
                self::checkType($fd, $role, $stat === false ? null : $stat['mode']);
            }
        }
        $opened = [];
        $inodes = [];
        try {
            foreach ($roles as $fd => $role) {
                $stream = @fopen('php://fd/' . $fd, 'r+b');
                if ($stream === false) {
                    self::checkType($fd, $role, null);
                }
                $opened[$fd] = $stream;
                $stat = fstat($stream);
                self::checkType($fd, $role, $stat === false ? -1 : $stat['mode']);
                $inode = $stat['dev'] . ':' . $stat['ino'];
                if (isset($inodes[$inode])) {
                    throw new \RuntimeException(self::setupMessage(sprintf('%s (fd %d) is not open (or is the same socket as fd %d)', $role, $fd, $inodes[$inode])));
                }
                $inodes[$inode] = $fd;
            }
        } catch (\RuntimeException $e) {
            array_map('fclose', $opened);
            throw $e;
        }
        $channels = [];
        foreach ($opened as $fd => $stream) {
            stream_set_blocking($stream, true);
            // php://fd/N of a socket is a socket stream, whose reads give up after
            // default_socket_timeout (60 s). An idle worker waits for its next task as long as it
            // takes (the master's end of stream is what ends it): -1 is PHP's "no timeout".
            stream_set_timeout($stream, -1);
            $channels[] = new self($stream, sprintf('%s (fd %d)', $roles[$fd], $fd), $maxPayload);
        }
        return [$channels[0], $channels[1]];
    }

    public function name(): string
    {
        return $this->name;
    }

    /** The largest payload this channel reads or writes, in bytes. */
    public function maxPayload(): int
    {
        return $this->maxPayload;
    }

    /**
     * Reads one frame.
     *
     * @return string|null the payload, or null on end of stream at a frame boundary
     * @throws ProtocolException on a zero or oversized length or a stream that ends inside a frame
     */
    public function readFrame(): ?string
    {
        $header = $this->readExactly(4);
        if ($header === '') {
            return null;
        }
        if (strlen($header) < 4) {
            throw new ProtocolException(sprintf('%s: end of stream inside a frame header', $this->name));
        }
        $length = unpack('N', $header)[1];
        if ($length === 0) {
            throw new ProtocolException(sprintf('%s: zero-length frame', $this->name));
        }
        if ($length > $this->maxPayload) {
            throw new ProtocolException(sprintf(
                '%s: frame of %d bytes exceeds the %d byte limit',
                $this->name,
                $length,
                $this->maxPayload,
            ));
        }
        $payload = $this->readExactly($length);
        if (strlen($payload) !== $length) {
            throw new ProtocolException(sprintf(
                '%s: end of stream after %d of %d payload bytes',
                $this->name,
                strlen($payload),
                $length,
            ));
        }
        return $payload;
    }

    /**
     * Writes one frame completely.
     *
     * @throws \LengthException if the payload is empty or over the limit (nothing is written)
     * @throws ChannelClosedException if the peer is gone
     */
    public function writeFrame(string $payload): void
    {
        $this->writeAll(pack('N', $this->checkedLength(strlen($payload))) . $payload);
    }

    /**
     * Writes one frame whose payload is $head followed by $tail, without joining them: a large
     * $tail (a part of a streamed answer) is written from the string the caller holds, not copied
     * into a new one first, which for megabytes costs more than the write itself (PHP maps fresh
     * memory for each such string, and every page of it faults).
     *
     * @throws \LengthException if the payload is empty or over the limit (nothing is written)
     * @throws ChannelClosedException if the peer is gone
     */
    public function writeFrameOf(string $head, string $tail): void
    {
        $this->writeAll(pack('N', $this->checkedLength(strlen($head) + strlen($tail))) . $head);
        $this->writeAll($tail);
    }

    /** @throws \LengthException if $length is no payload length this channel sends */
    private function checkedLength(int $length): int
    {
        if ($length === 0 || $length > $this->maxPayload) {
            throw new \LengthException(sprintf(
                '%s: cannot send a payload of %d bytes (allowed: 1..%d)',
                $this->name,
                $length,
                $this->maxPayload,
            ));
        }
        return $length;
    }

    /** @throws ChannelClosedException if the peer is gone */
    private function writeAll(string $data): void
    {
        $total = strlen($data);
        $done = 0;
        while ($done < $total) {
            $n = @fwrite($this->stream, $done === 0 ? $data : substr($data, $done));
            if ($n === false || $n === 0) {
                throw new ChannelClosedException(sprintf(
                    '%s: write failed after %d of %d bytes (peer gone?)',
                    $this->name,
                    $done,
                    $total,
                ));
            }
            $done += $n;
        }
    }

    /** Whether a read would not block now (a frame, or end of stream, is waiting). */
    public function readable(): bool
    {
        $read = [$this->stream];
        $none = null;
        return @stream_select($read, $none, $none, 0) === 1;
    }

    public function close(): void
    {
        if (is_resource($this->stream)) {
            fclose($this->stream);
        }
    }

    /**
     * Reads up to $n bytes, fewer only at end of stream.
     *
     * A read that timed out (a socket stream with a finite timeout, e.g. one given to the
     * constructor) is no end of stream: keep waiting, keeping what was read of the frame so far.
     */
    private function readExactly(int $n): string
    {
        $buf = '';
        while (($missing = $n - strlen($buf)) > 0) {
            $chunk = @fread($this->stream, $missing);
            if ($chunk === false || $chunk === '') {
                if (stream_get_meta_data($this->stream)['timed_out']) {
                    continue; // nothing arrived within the stream's timeout: the peer is just quiet
                }
                if ($chunk === false || feof($this->stream)) {
                    break; // EOF, or an error such as ECONNRESET: the peer is gone either way
                }
                continue; // interrupted read (EINTR): try again
            }
            $buf .= $chunk;
        }
        return $buf;
    }

    /** @param int|null $mode st_mode, null if the descriptor is not open */
    private static function checkType(int $fd, string $role, ?int $mode): void
    {
        if ($mode === null) {
            throw new \RuntimeException(self::setupMessage(sprintf('%s (fd %d) is not open', $role, $fd)));
        }
        $type = $mode & 0170000;
        if ($type !== 0140000 && $type !== 0010000) { // S_IFSOCK, S_IFIFO
            $target = @readlink('/proc/self/fd/' . $fd);
            throw new \RuntimeException(self::setupMessage(sprintf(
                '%s (fd %d) is %s, not a socket; refusing to touch it',
                $role,
                $fd,
                $target === false ? 'something else' : '"' . $target . '"',
            )));
        }
    }

    private static function setupMessage(string $problem): string
    {
        return $problem . '. This worker must be started by a Folk master that passes socket pairs at fds 3 '
            . '(tasks) and 4 (control); it cannot run on its own.';
    }
}
