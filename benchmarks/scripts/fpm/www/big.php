<?php
// The "big" benchmark handler (PHP-FPM): ?mb=N MiB of text printed with echo, a MiB at a time.
// www/worker.php answers the same bytes at /big.
$mb = max(1, min(1024, (int) ($_GET['mb'] ?? 100)));
$chunk = str_repeat('0123456789abcdef', 65536);
for ($i = 0; $i < $mb; $i++) {
    echo $chunk;
}
