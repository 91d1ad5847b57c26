<?php

/*
 * Records ext-msgpack's bytes for the value corpus into fixtures/msgpack-golden.txt.
 * Run with the extension loaded: php src/test/php/support/generate-golden.php
 */

declare(strict_types=1);

namespace Folk\Worker\Tests;

require __DIR__ . '/bootstrap.php';

if (!extension_loaded('msgpack')) {
    fwrite(STDERR, "ext-msgpack is required to record the golden file\n");
    exit(1);
}
$lines = [
    '# ext-msgpack ' . phpversion('msgpack') . ' on PHP ' . PHP_VERSION . ': bytes of msgpack_pack() per corpus value.',
    '# Regenerate: php src/test/php/support/generate-golden.php. Format: mode/name <TAB> hex or sha256:<hex>:<length>',
];
foreach (Golden::modes() as $modeName => $mode) {
    foreach ($mode['values'] as $name => $value) {
        $lines[] = $modeName . '/' . $name . "\t" . Golden::fingerprint(@Golden::extPack($mode, $value));
    }
}
file_put_contents(Golden::FILE, implode("\n", $lines) . "\n");
printf("wrote %d entries to %s\n", count($lines) - 2, realpath(Golden::FILE));
