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
