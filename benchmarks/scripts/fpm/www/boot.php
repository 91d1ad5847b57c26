<?php

// The "boot" benchmark handler (PHP-FPM): boots the fake framework (~200 class files, ~3 ms of
// CPU) on every request, then answers. www/worker.php boots once and serves /boot the same way.

declare(strict_types=1);

require __DIR__ . '/../lib/App.php';

echo \FolkBench\App::boot()->handle('/boot');
