<?php

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\MessagePack\Packer;

/**
 * fixtures/msgpack-golden.txt: the bytes ext-msgpack produced for every ValueCorpus entry,
 * so that runs without the extension (php -n) still compare the pure packer with it.
 * Regenerate with `php src/test/php/support/generate-golden.php` (needs ext-msgpack).
 */
final class Golden
{
    public const FILE = __DIR__ . '/../fixtures/msgpack-golden.txt';

    /**
     * The packer settings each recorded mode corresponds to, and the values it covers.
     *
     * @return array<string, array{php_only: bool, str8: bool, values: array<string, mixed>}>
     */
    public static function modes(): array
    {
        $data = ValueCorpus::data();
        $objects = ValueCorpus::objects();
        $strings = array_filter($data, 'is_string');
        return [
            'default' => ['php_only' => true, 'str8' => true, 'values' => $data + $objects],
            'php_only=0' => ['php_only' => false, 'str8' => true, 'values' => $objects],
            'str8=0' => ['php_only' => true, 'str8' => false, 'values' => $strings],
        ];
    }

    public static function packer(array $mode): Packer
    {
        return new Packer(phpOnly: $mode['php_only'], str8: $mode['str8']);
    }

    /** Short outputs verbatim (hex), long ones by length and SHA-256. */
    public static function fingerprint(string $bytes): string
    {
        return strlen($bytes) <= 160 ? bin2hex($bytes) : sprintf('sha256:%s:%d', hash('sha256', $bytes), strlen($bytes));
    }

    /** @return array<string, string> "mode/name" => fingerprint */
    public static function load(): array
    {
        $entries = [];
        foreach (file(self::FILE, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
            if ($line[0] === '#') {
                continue;
            }
            [$key, $fingerprint] = explode("\t", $line, 2);
            $entries[$key] = $fingerprint;
        }
        return $entries;
    }

    /** Packs with ext-msgpack under the given mode's ini settings. */
    public static function extPack(array $mode, mixed $value): string
    {
        $old = [ini_get('msgpack.php_only'), ini_get('msgpack.use_str8_serialization')];
        ini_set('msgpack.php_only', $mode['php_only'] ? '1' : '0');
        ini_set('msgpack.use_str8_serialization', $mode['str8'] ? '1' : '0');
        try {
            return @msgpack_pack($value); // ext-msgpack notices, e.g. for a missing __sleep() name
        } finally {
            ini_set('msgpack.php_only', $old[0]);
            ini_set('msgpack.use_str8_serialization', $old[1]);
        }
    }
}
