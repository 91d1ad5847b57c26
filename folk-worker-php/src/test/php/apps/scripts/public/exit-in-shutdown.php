<?php
// exit() in a shutdown function, as legacy error handlers do (CodeIgniter 3's ends a fatal error with
// exit(1)): PHP skips the shutdown functions left, still runs the destructors, and sends what was printed.
final class Page
{
    public function __destruct()
    {
        echo ', its destructor';
    }
}

$page = new Page();
register_shutdown_function(static function (): void {
    echo ', its shutdown function';
    exit(1);
});
register_shutdown_function(static function (): void {
    echo ', a shutdown function exit() skips';
});
header('X-Script: exit-in-shutdown');
http_response_code(503);
echo 'the script', isset($_FILES['file']) ? ' with a file' : '';
