<?php
// A worker written straight against the wire protocol (no library), used to test how the pool
// handles workers that misbehave. Usage: php raw-worker.php <mode>
//   echo          a correct echo worker (the baseline)
//   never-ready   never sends control.ready
//   wrong-msgid   answers the first request with msgid + 1
//   huge-frame    announces a 2 GiB response frame
//   zero-frame    sends a zero-length frame as its response
//   garbage       sends a frame of bytes that are not MessagePack
//   die-mid-call  exits without answering the first request
//   die-mid-call-with-child  starts a background job (exec('sleep 60 &'), which inherits fds 3 and 4),
//                 then exits without answering the first request
//   answer-twice  answers each request twice (the same msgid)
//   die-booting-with-child  starts such a background job, then exits before its handshake
//   answer-twice-late  answers each request, then again 100 ms later
//   ready-then-exit  says ready, then exits at once
//   request       answers each request with the whole request array it received (declares no feature)
//   request-context  the same, declaring the "context" feature in its handshake
// With a second argument (a marker file path), only the first worker to create the marker
// misbehaves; later ones are plain echo workers, so the pool can be seen to recover.
declare(strict_types=1);

$mode = $argv[1] ?? 'echo';
if (isset($argv[2]) && @fopen($argv[2], 'x') === false) {
    $mode = 'echo';
}
$task = fopen('php://fd/3', 'r+');
$control = fopen('php://fd/4', 'r+');

function write_frame($stream, string $payload): void {
    $data = pack('N', strlen($payload)) . $payload;
    for ($off = 0; $off < strlen($data);) {
        $n = fwrite($stream, substr($data, $off));
        if ($n === false || $n === 0) { exit(3); }
        $off += $n;
    }
    fflush($stream);
}

function read_exact($stream, int $n): ?string {
    $buf = '';
    while (strlen($buf) < $n) {
        $chunk = fread($stream, $n - strlen($buf));
        if ($chunk === false || $chunk === '') { return null; }
        $buf .= $chunk;
    }
    return $buf;
}

if ($mode === 'die-booting-with-child') {
    exec('sleep 60 > /dev/null 2>&1 &');
    exit(7);
}
if ($mode === 'never-ready') {
    while (true) { sleep(1); }
}
$ready = ['pid' => getmypid()];
if ($mode === 'request-context') {
    $ready['features'] = ['context'];
}
write_frame($control, msgpack_pack([2, 'control.ready', $ready]));
if ($mode === 'ready-then-exit') {
    exit(0);
}

while (true) {
    $header = read_exact($task, 4);
    if ($header === null) { exit(0); }
    $len = unpack('N', $header)[1];
    $payload = read_exact($task, $len);
    if ($payload === null) { exit(0); }
    $request = msgpack_unpack($payload);
    [$type, $msgid, $method, $params] = $request;
    switch ($mode) {
        case 'request':
        case 'request-context':
            write_frame($task, msgpack_pack([1, $msgid, null, $request]));
            break;
        case 'wrong-msgid':
            write_frame($task, msgpack_pack([1, $msgid + 1, null, $params]));
            break;
        case 'huge-frame':
            fwrite($task, pack('N', 0x7fffffff) . str_repeat("\x00", 1024));
            fflush($task);
            sleep(60);
            break;
        case 'zero-frame':
            fwrite($task, pack('N', 0));
            fflush($task);
            sleep(60);
            break;
        case 'garbage':
            write_frame($task, "\xc1\xc1\xc1 this is not msgpack");
            sleep(60);
            break;
        case 'die-mid-call':
            exit(9);
        case 'die-mid-call-with-child':
            exec('sleep 60 > /dev/null 2>&1 &');
            exit(9);
        case 'answer-twice':
            write_frame($task, msgpack_pack([1, $msgid, null, $params]));
            write_frame($task, msgpack_pack([1, $msgid, null, 'again']));
            break;
        case 'answer-twice-late':
            write_frame($task, msgpack_pack([1, $msgid, null, $params]));
            usleep(100000);
            write_frame($task, msgpack_pack([1, $msgid, null, 'again']));
            break;
        default:
            if ($method === 'sleep') {
                usleep((int) ($params * 1000));
            }
            write_frame($task, msgpack_pack([1, $msgid, null, $params]));
    }
}
