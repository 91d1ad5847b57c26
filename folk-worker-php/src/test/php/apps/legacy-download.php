<?php

/*
 * A download as legacy code writes it, for the applications' /download route: rows printed one
 * by one, flushed every 64 KiB (ob_flush() and flush(), as export scripts do), about ?kb= KB in
 * all, then "end". Larger than a worker's frame limit, it must reach the client in parts, as
 * PHP-FPM sends it. With ?sized=1 the script first declares the download's size
 * (header('Content-Length: ...'), as scripts serving a file do), which the client must get.
 * With ?closed=1 it first closes every output buffer (`while (ob_get_level()) ob_end_clean();`, as
 * download scripts do before readfile()), so that the rows reach PHP's SAPI past all buffers.
 * Shared so that every application prints the same bytes.
 */

declare(strict_types=1);

return static function (int $kb, bool $sized = false, bool $closed = false): void {
    $rows = [];
    $printed = 0;
    for ($row = 0; $printed < $kb * 1024; $row++) {
        $line = sprintf("%08d,%s\n", $row, str_repeat(chr(97 + $row % 26), 40));
        $rows[] = $line;
        $printed += strlen($line);
    }
    $rows[] = "end\n";
    if ($sized) {
        header('Content-Length: ' . ($printed + 4));
    }
    if ($closed) {
        while (ob_get_level() > 0) {
            ob_end_clean();
        }
    }
    foreach ($rows as $row => $line) {
        echo $line;
        if ($row % 1300 === 1299) {
            if (ob_get_level() > 0) {
                ob_flush();
            }
            flush();
        }
    }
};
