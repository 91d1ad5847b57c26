<?php

/*
 * Measures the boot handler's parts in one CLI process, to calibrate gen-classes.php's rounds
 * on a new machine:
 *   - the first App::boot(): compiling ~200 class files (no opcache in the CLI) + the work;
 *   - the work alone (every service's register() again, classes already loaded), 60 times.
 * The work alone is what "~3 ms of CPU" refers to; PHP-FPM adds loading the classes from
 * opcache (about 0.5 ms on the reference machine) on every request.
 *
 *   php measure-boot.php [gen_dir]
 */

declare(strict_types=1);

require __DIR__ . '/lib/App.php';

if (isset($argv[1])) {
    putenv('FOLK_BENCH_GEN_DIR=' . $argv[1]);
}
$t = hrtime(true);
FolkBench\App::boot();
$first = (hrtime(true) - $t) / 1e6;

$map = require FolkBench\App::genDir() . '/classmap.php';
$reflection = new ReflectionClass(FolkBench\App::class);
$times = [];
for ($k = 0; $k < 60; $k++) {
    $app = $reflection->newInstanceWithoutConstructor();
    (function (): void {
        $this->services = [];
        $this->checksum = 0;
    })->call($app);
    $t = hrtime(true);
    foreach ($map['services'] as $class) {
        (new $class())->register($app);
    }
    $times[] = (hrtime(true) - $t) / 1e6;
}
sort($times);
printf("first_boot_ms=%.2f work_ms_min=%.2f work_ms_p50=%.2f classes=%d\n", $first, $times[0], $times[30], count($map['files']));
