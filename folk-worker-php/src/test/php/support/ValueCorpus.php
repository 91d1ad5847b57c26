<?php

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\Tests\Fixtures;

/**
 * Named values for the MessagePack comparisons. Deterministic: the same names map to the same
 * values on every run and in every mode, so fixtures/msgpack-golden.txt (bytes recorded from
 * ext-msgpack) can check the pure packer where the extension is not loaded.
 */
final class ValueCorpus
{
    /** @return array<string, mixed> plain data: round-trips through pack/unpack unchanged */
    public static function data(): array
    {
        $v = [
            'null' => null,
            'true' => true,
            'false' => false,
        ];
        $ints = [
            0, 1, 31, 32, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, PHP_INT_MAX,
            -1, -31, -32, -33, -127, -128, -129, -32767, -32768, -32769, -2147483647, -2147483648,
            -2147483649, PHP_INT_MIN + 1, PHP_INT_MIN,
        ];
        foreach ($ints as $i) {
            $v['int ' . $i] = $i;
        }
        foreach ([0.0, -0.0, 1.0, -1.0, 1.5, -1.5, 0.1, 1e300, -1e-300, 5e-324, PHP_FLOAT_MAX, INF, -INF, NAN] as $f) {
            $v['float ' . var_export($f, true)] = $f;
        }
        foreach ([0, 1, 31, 32, 255, 256, 65535, 65536, 70000] as $n) {
            $v['str len ' . $n] = str_repeat('x', $n);
        }
        $all = '';
        for ($b = 0; $b < 256; $b++) {
            $all .= chr($b);
        }
        $v['bytes 0..255'] = $all;
        $v['bytes 255..0 x300'] = str_repeat(strrev($all), 300);
        $v['utf-8'] = "h\u{e9}llo \u{2713} \u{1F600}";
        $v['nul'] = "\0";
        $v['numeric string'] = '123';
        $v['float string'] = '1.5';

        $v['empty array'] = [];
        $v['list 3'] = [1, 'two', 3.0];
        foreach ([15, 16, 65535, 65536] as $n) {
            $v['list len ' . $n] = range(0, $n - 1);
        }
        foreach ([15, 16, 65535, 65536] as $n) {
            $map = [];
            for ($i = 0; $i < $n; $i++) {
                $map['k' . $i] = $i;
            }
            $v['map len ' . $n] = $map;
        }
        $v['map out of order'] = [1 => 'a', 0 => 'b'];
        $v['map with hole'] = [0 => 'a', 2 => 'b'];
        $v['map from 1'] = [1 => 'a', 2 => 'b'];
        $v['map negative keys'] = [-1 => 'a', -200 => 'b', PHP_INT_MIN => 'c'];
        $v['map big int keys'] = [PHP_INT_MAX => 1, 4294967296 => 2];
        $v['map mixed keys'] = ['a' => 1, 5 => 2, '' => 3, '1.5' => 4, "\xff" => 5];
        $unset = [1, 2, 3];
        unset($unset[1]);
        $v['list with unset middle'] = $unset;
        $tail = [1, 2, 3];
        unset($tail[2]);
        $v['list with unset tail'] = $tail;
        $v['nested'] = ['a' => [1, [2, [3, ['deep' => [[], [[]], ['x' => null]]]]]], 'b' => [true, false, -0.0]];
        $deep = 'bottom';
        for ($i = 0; $i < 200; $i++) {
            $deep = $i % 2 === 0 ? [$deep] : ['d' => $deep];
        }
        $v['nested 200'] = $deep;
        $v['request'] = [0, 3, 'echo', 'hi'];
        $v['http params'] = ['method' => 'POST', 'uri' => '/x?y=1', 'headers' => ['Content-Type' => 'a/b'], 'body' => $all];

        mt_srand(20240601, MT_RAND_MT19937);
        for ($i = 0; $i < 300; $i++) {
            $v['random ' . $i] = self::random(0);
        }
        return $v;
    }

    /** @return array<string, object|array> values with objects (ext-msgpack-specific shapes) */
    public static function objects(): array
    {
        $tree = new Fixtures\Visibility();
        $tree->child = new Fixtures\Visibility();
        $numeric = new \stdClass();
        $numeric->{'0'} = 'zero';
        $numeric->{'12'} = 'twelve';
        $numeric->name = 'n';
        $dynamic = new \stdClass();
        $dynamic->x = 1;
        unset($dynamic->x);
        $dynamic->y = [1, 2];
        return [
            'stdClass empty' => new \stdClass(),
            'stdClass props' => (object) ['a' => 1, 'b' => [1, 2], 'c' => (object) ['d' => null]],
            'stdClass numeric props' => $numeric,
            'stdClass after unset' => $dynamic,
            'visibility' => new Fixtures\Visibility(),
            'visibility tree' => $tree,
            'subclass' => new Fixtures\Subclass(),
            'uninitialized typed' => new Fixtures\Typed(),
            '__serialize' => new Fixtures\WithSerialize(),
            '__sleep' => new Fixtures\WithSleep(),
            '__sleep inherited' => new Fixtures\SleepSub(),
            'Serializable' => new Fixtures\OldSerializable(),
            'Serializable null' => new Fixtures\OldSerializable(null),
            'backed enum' => Fixtures\Suit::Hearts,
            'pure enum' => Fixtures\Pure::One,
            'DateTimeImmutable' => new \DateTimeImmutable('2024-02-29 12:34:56.789', new \DateTimeZone('UTC')),
            'ArrayObject' => new \ArrayObject(['x' => 1, 2]),
            'objects in arrays' => ['list' => [new \stdClass(), Fixtures\Suit::Spades], 'map' => ['o' => new Fixtures\WithSerialize(1)]],
        ];
    }

    private static function random(int $depth): mixed
    {
        $kind = mt_rand(0, $depth >= 4 ? 7 : 10);
        switch ($kind) {
            case 0:
                return null;
            case 1:
                return mt_rand(0, 1) === 1;
            case 2:
                $bits = mt_rand(1, 63);
                $n = mt_rand(0, (1 << ($bits - 1)) - 1) * (mt_rand(0, 1) === 1 ? 1 : -1);
                return mt_rand(0, 9) === 0 ? $n * 2 + mt_rand(0, 1) : $n;
            case 3:
                return mt_rand(0, 1) === 1
                    ? (mt_rand() / mt_getrandmax() - 0.5) * 10 ** mt_rand(-20, 20)
                    : unpack('E', self::bytes(8))[1]; // any bit pattern, NaN payloads included
            case 4:
            case 5:
                $lengths = [0, 1, 5, 31, 32, 33, 200, 255, 256, 257, 1000];
                return self::bytes($lengths[mt_rand(0, count($lengths) - 1)]);
            case 6:
            case 7:
                return self::bytes(mt_rand(0, 40));
            case 8:
                $list = [];
                for ($i = mt_rand(0, 18); $i > 0; $i--) {
                    $list[] = self::random($depth + 1);
                }
                return $list;
            default:
                $map = [];
                for ($i = mt_rand(0, 18); $i > 0; $i--) {
                    $key = match (mt_rand(0, 3)) {
                        0 => mt_rand(-1000, 1000),
                        1 => (string) mt_rand(0, 99),
                        default => self::bytes(mt_rand(0, 12)),
                    };
                    $map[$key] = self::random($depth + 1);
                }
                return $map;
        }
    }

    private static function bytes(int $n): string
    {
        $s = '';
        for ($i = 0; $i < $n; $i++) {
            $s .= chr(mt_rand(0, 255));
        }
        return $s;
    }
}
