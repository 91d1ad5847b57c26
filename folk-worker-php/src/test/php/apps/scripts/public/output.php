<?php
// What a script printed has gone out once PHP-FPM's output_buffering buffer passed it on: at once without
// one (unbuffered/, whose .user.ini turns it off, runs this script), each 4096 bytes with Debian's (the
// document root's .user.ini). Closing or cleaning the buffer after that cannot take it back, and header(),
// http_response_code() and session_start() then refuse ("headers already sent").
//   ?n=N          the bytes printed first (10 by default), then a line end
//   &do=endclean  then every buffer closed (download code's while (ob_get_level()) ob_end_clean();)
//   &do=getclean  then ob_get_clean()
//   &do=clean     then "A", flush(), "B", ob_clean(), "C"
//   &do=late      then a redirect, a status and a session (a legacy page that decides late)
//   &do=wait&marker=NAME  prints 8 KiB in pieces of 512 bytes, 20 ms apart, then waits up to 10 s for the
//                 file NAME in the application's state directory (FOLK_APP_STATE), which the client makes
//                 once it has some of them: the last line says whether it came
$do = (string) ($_GET['do'] ?? '');
if ($do === 'wait') {
    header('X-Accel-Buffering: no'); // nginx then passes each write on at once
    for ($i = 0; $i < 16; $i++) {
        if ($i > 0) {
            usleep(20000);
        }
        echo str_repeat(chr(ord('a') + $i), 511), "\n";
    }
    $marker = getenv('FOLK_APP_STATE') . '/' . basename((string) ($_GET['marker'] ?? 'none'));
    $until = microtime(true) + 10;
    while (!is_file($marker) && microtime(true) < $until) {
        usleep(10000);
    }
    echo is_file($marker) ? "the client had the first bytes\n" : "no word from the client\n";
    return;
}
echo str_repeat('x', (int) ($_GET['n'] ?? 10)), "\n";
switch ($do) {
    case 'endclean':
        while (ob_get_level() > 0) {
            ob_end_clean();
        }
        echo 'after closing every buffer: level ', ob_get_level(), "\n";
        break;
    case 'getclean':
        $taken = @ob_get_clean();
        echo 'ob_get_clean() took ', strlen((string) $taken), " bytes\n";
        break;
    case 'clean':
        echo "A\n";
        flush();
        echo "B\n";
        @ob_clean();
        echo "C\n";
        break;
    case 'late':
        header('Location: /elsewhere.php');
        $code = @http_response_code(303);
        $started = @session_start();
        $_SESSION['visited'] = true;
        echo 'http_response_code: ', var_export($code, true), ', session_start: ', var_export($started, true),
            ', headers_sent: ', var_export(headers_sent(), true), "\n";
        break;
}
