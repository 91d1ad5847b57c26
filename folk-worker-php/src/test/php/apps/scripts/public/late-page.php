<?php
// phpMyAdmin's way: it closes the buffer php.ini's output_buffering opened, opens its own, and in a
// shutdown function takes what the page printed, prints the finished page, flushes it out past every
// buffer, and exits.
if (ob_get_level() > 0) {
    ob_end_clean();
}
ob_start();
register_shutdown_function(static function (): void {
    $printed = (string) ob_get_contents();
    ob_end_clean();
    echo "<html><body>$printed</body></html>\n";
    flush();
    exit;
});
echo 'the page, printed late';
