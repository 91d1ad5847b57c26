<?php

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\FrameChannel;

/**
 * Starts `php -r $code` with its stdout on a Unix socket and returns [process, our end of the
 * socket]: a writer that feeds a FrameChannel from another process, with pauses of its own.
 *
 * @return array{0: resource, 1: resource}
 */
function socketWriter(string $code): array
{
    [$ours, $theirs] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, 0);
    $process = proc_open([PHP_BINARY, ...TestMaster::phpArgs(), '-r', $code], [0 => ['file', '/dev/null', 'r'], 1 => $theirs], $pipes);
    if ($process === false) {
        fail('proc_open failed');
    }
    fclose($theirs);
    return [$process, $ours];
}

test('a read that times out mid-frame keeps waiting and keeps what it read', function (): void {
    // Header and half the payload, then a pause of several read timeouts, then the rest.
    [$process, $stream] = socketWriter('$p = str_repeat("x", 1000); $f = pack("N", 2000) . $p;'
        . ' fwrite(STDOUT, $f); fflush(STDOUT); usleep(700000); fwrite(STDOUT, str_repeat("y", 1000)); fclose(STDOUT);');
    try {
        stream_set_timeout($stream, 0, 100000);
        $channel = new FrameChannel($stream, 'test channel');
        assertSame(str_repeat('x', 1000) . str_repeat('y', 1000), $channel->readFrame());
        assertSame(null, $channel->readFrame(), 'a real end of stream is still one');
    } finally {
        fclose($stream);
        proc_close($process);
    }
});

test('a read that times out between frames keeps waiting for the next one', function (): void {
    [$process, $stream] = socketWriter('usleep(500000); fwrite(STDOUT, pack("N", 2) . "hi"); fclose(STDOUT);');
    try {
        stream_set_timeout($stream, 0, 100000);
        $channel = new FrameChannel($stream, 'test channel');
        assertSame('hi', $channel->readFrame());
        assertSame(null, $channel->readFrame());
    } finally {
        fclose($stream);
        proc_close($process);
    }
});

test('a frame written as head and tail is the frame of the two joined, and their sum is what the limit checks', function (): void {
    [$a, $b] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, 0);
    try {
        $tail = str_repeat('t', 300000); // past the socket's buffer: the reader below takes it as it comes
        $writer = new FrameChannel($a, 'writer');
        $reader = new FrameChannel($b, 'reader');
        $small = new FrameChannel($a, 'small channel', 16);
        assertThrows(\LengthException::class, fn () => $small->writeFrameOf('12345678', '123456789'), 'a payload of 17 bytes');
        assertThrows(\LengthException::class, fn () => $writer->writeFrameOf('', ''), 'allowed: 1..');
        $pid = pcntl_fork();
        if ($pid === 0) {
            $writer->writeFrameOf('head:', $tail);
            $writer->writeFrameOf('only', '');
            exit(0);
        }
        assertSame('head:' . $tail, $reader->readFrame());
        assertSame('only', $reader->readFrame());
        pcntl_waitpid($pid, $status);
    } finally {
        fclose($a);
        fclose($b);
    }
});

test('the payload limit is the master\'s (FOLK_MAX_FRAME_LENGTH), in both directions', function (): void {
    [$a, $b] = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, 0);
    try {
        $small = new FrameChannel($a, 'small channel', 16);
        assertSame(16, $small->maxPayload());
        assertThrows(\LengthException::class, fn () => $small->writeFrame(str_repeat('x', 17)), 'allowed: 1..16');
        fwrite($b, pack('N', 17) . str_repeat('y', 17));
        assertThrows(\Folk\Worker\ProtocolException::class, fn () => $small->readFrame(), 'exceeds the 16 byte limit');
    } finally {
        fclose($a);
        fclose($b);
    }
    // Over the protocol's 16 MiB when the master allows more: a 17 MiB frame from another process.
    [$process, $stream] = socketWriter('fwrite(STDOUT, pack("N", 17 << 20) . str_repeat("z", 17 << 20)); fclose(STDOUT);');
    try {
        assertSame(17 << 20, strlen((string) (new FrameChannel($stream, 'large channel', 20 << 20))->readFrame()));
    } finally {
        fclose($stream);
        proc_close($process);
    }
    $saved = getenv(FrameChannel::LIMIT_VARIABLE);
    try {
        putenv(FrameChannel::LIMIT_VARIABLE);
        assertSame(FrameChannel::MAX_PAYLOAD, FrameChannel::limitFromEnvironment(), 'no variable: the protocol\'s 16 MiB');
        putenv(FrameChannel::LIMIT_VARIABLE . '=33554432');
        assertSame(33554432, FrameChannel::limitFromEnvironment());
        foreach (['15', '-1', '16MB', '99999999999'] as $bad) {
            putenv(FrameChannel::LIMIT_VARIABLE . '=' . $bad);
            assertThrows(\RuntimeException::class, fn () => FrameChannel::limitFromEnvironment(), 'FOLK_MAX_FRAME_LENGTH must be a number of bytes');
        }
    } finally {
        putenv($saved === false ? FrameChannel::LIMIT_VARIABLE : FrameChannel::LIMIT_VARIABLE . '=' . $saved);
    }
});
