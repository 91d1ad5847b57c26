<?php
// Server-sent events as a script writes them without a buffer of its own: echo, then flush(); in a directory
// whose .user.ini turns output_buffering off (the one above sets 4096), as such scripts need under PHP-FPM.
//   ?wait=NAME   after the first event, waits up to 10 s for the file NAME in the application's state
//                directory (FOLK_APP_STATE), which the client makes once it has that event: the last
//                events say whether it came, and whether PHP counts the headers as sent
//   ?loop=NAME   an event every 50 ms, 400 of them; when the script ends, NAME.end in that directory
//                says how many went out and whether PHP took the client for gone (connection_aborted())
//   ?quiet=1     with loop: events of 2 KiB and no flush(), as a report printed row by row
header('Content-Type: text/event-stream');
header('Cache-Control: no-cache');
header('X-Accel-Buffering: no'); // nginx then passes each write on at once
$state = (string) getenv('FOLK_APP_STATE');
if (isset($_GET['loop'])) {
    $end = $state . '/' . basename((string) $_GET['loop']) . '.end';
    $sent = 0;
    register_shutdown_function(static function () use ($end, &$sent): void {
        // Whole or not at all: the test takes the file for the script's end as soon as it exists.
        file_put_contents("$end.part", "sent=$sent aborted=" . connection_aborted() . "\n");
        rename("$end.part", $end);
    });
    $quiet = isset($_GET['quiet']);
    for (; $sent < 400; $sent++) {
        echo "data: $sent\n\n", $quiet ? str_repeat(": padding\n", 200) . "\n" : '';
        if (!$quiet) {
            flush();
        }
        usleep(50000);
    }
    return;
}
echo "data: first\n\n";
flush();
$marker = $state . '/' . basename((string) ($_GET['wait'] ?? 'none'));
$until = microtime(true) + 10;
while (!is_file($marker) && microtime(true) < $until) {
    usleep(20000);
}
echo is_file($marker) ? "data: the client had the first event\n\n" : "data: no word from the client\n\n";
// The first event went out with the headers: PHP counts them as sent, and refuses another.
echo 'data: headers sent: ', headers_sent() ? 'yes' : 'no', "\n\n";
