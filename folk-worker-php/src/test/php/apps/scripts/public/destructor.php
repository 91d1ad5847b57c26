<?php
// An object whose destructor prints: PHP-FPM runs it at the request's end, after the shutdown
// functions, and sends what it prints with the page.
final class Note
{
    public function __destruct()
    {
        echo ' and its destructor';
    }
}

$note = new Note();
register_shutdown_function(static function (): void {
    echo ' and its shutdown function';
});
echo 'the page';
