<?php
register_shutdown_function(static function (): void {
    echo ' and its shutdown function';
});
header('X-Script: shutdown');
echo 'the script';
