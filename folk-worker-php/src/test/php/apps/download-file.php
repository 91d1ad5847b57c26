<?php

/*
 * The file behind the applications' GET /file route (a download the framework sends from a file:
 * Symfony's BinaryFileResponse, Laravel's response()->download()): 3 MiB of text rows in the
 * application's state directory, written once, with a fixed modification time so that both
 * servers' answers (which carry its Last-Modified) compare alike.
 */

declare(strict_types=1);

return static function (): string {
    $size = 3 * 1024 * 1024;
    $path = (getenv('FOLK_APP_STATE') ?: sys_get_temp_dir()) . '/download.csv';
    clearstatcache(true, $path);
    if (!is_file($path) || filesize($path) !== $size) {
        $rows = '';
        for ($row = 0; strlen($rows) < $size; $row++) {
            $rows .= sprintf("%08d,%s\n", $row, str_repeat(chr(97 + $row % 26), 40));
        }
        $partial = $path . '.' . getmypid();
        file_put_contents($partial, substr($rows, 0, $size));
        touch($partial, 1700000000);
        rename($partial, $path); // whole or not at all, whichever process writes it
    }
    return $path;
};
