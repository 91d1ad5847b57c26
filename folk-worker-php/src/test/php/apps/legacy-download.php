<?php

/*
 * A download as legacy code writes it, for the applications' /download route: rows printed one
 * by one, flushed every 64 KiB (ob_flush() and flush(), as export scripts do), about ?kb= KB in
 * all, then "end". Larger than a worker's frame limit, it must reach the client in parts, as
 * PHP-FPM sends it. Shared so that every application prints the same bytes.
 */

declare(strict_types=1);

return static function (int $kb): void {
    $printed = 0;
    for ($row = 0; $printed < $kb * 1024; $row++) {
        $line = sprintf("%08d,%s\n", $row, str_repeat(chr(97 + $row % 26), 40));
        echo $line;
        $printed += strlen($line);
        if ($row % 1300 === 1299) {
            if (ob_get_level() > 0) {
                ob_flush();
            }
            flush();
        }
    }
    echo "end\n";
};
