<?php
// phpMyAdmin's way: it closes the buffer php.ini's output_buffering opened, opens its own (over
// ob_gzhandler's, with ?gzip), and in a shutdown function takes what the page printed, prints the
// finished page, flushes it out (past every buffer, or out of ob_gzhandler's, which PHP then ends
// with the request), and exits.
if (ob_get_level() > 0) {
    ob_end_clean();
}
$gzip = isset($_GET['gzip']);
if ($gzip) {
    ob_start('ob_gzhandler');
}
ob_start();
register_shutdown_function(static function () use ($gzip): void {
    $printed = (string) ob_get_contents();
    ob_end_clean();
    echo "<html><body>$printed</body></html>\n";
    if ($gzip) {
        ob_flush();
    } else {
        flush();
    }
    exit;
});
echo 'the page, printed late';
