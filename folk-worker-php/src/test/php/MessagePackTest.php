<?php

declare(strict_types=1);

namespace Folk\Worker\Tests;

use Folk\Worker\MessagePack\Codec;
use Folk\Worker\MessagePack\DecodeException;
use Folk\Worker\MessagePack\ExtCodec;
use Folk\Worker\MessagePack\Packer;
use Folk\Worker\MessagePack\PureCodec;
use Folk\Worker\MessagePack\Unpacker;
use Folk\Worker\MessagePack\UnsupportedExtException;

/** @return array<string, Codec> the pure codec, plus ext-msgpack's when it is loaded */
function codecs(): array
{
    $codecs = ['pure' => new PureCodec(new Packer(), new Unpacker())];
    if (extension_loaded('msgpack')) {
        $codecs['ext'] = new ExtCodec();
    }
    return $codecs;
}

function requireExt(): void
{
    if (!extension_loaded('msgpack')) {
        skip('ext-msgpack is not loaded (compared against the golden file instead)');
    }
}

test('PROTOCOL.md byte examples', function (): void {
    $examples = [
        'ready' => ['00000018 93 02 ad' . bin2hex('control.ready') . '81 a3' . bin2hex('pid') . 'cd 24 6e', [2, 'control.ready', ['pid' => 9326]]],
        'request' => ['0000000b 94 00 03 a4' . bin2hex('echo') . 'a2' . bin2hex('hi'), [0, 3, 'echo', 'hi']],
        'response' => ['00000007 94 01 03 c0 a2' . bin2hex('hi'), [1, 3, null, 'hi']],
        'error' => [
            '0000002c 94 01 05 82 a4' . bin2hex('code') . 'd1 80 a7 a7' . bin2hex('message') . 'b6' . bin2hex('method not found: nope') . 'c0',
            [1, 5, ['code' => -32601, 'message' => 'method not found: nope'], null],
        ],
    ];
    foreach (codecs() as $codecName => $codec) {
        foreach ($examples as $name => [$hex, $value]) {
            $frame = hex2bin(str_replace(' ', '', $hex));
            $payload = $codec->pack($value);
            assertSame(bin2hex($frame), bin2hex(pack('N', strlen($payload)) . $payload), "$codecName packs the $name example");
            assertSame($value, $codec->unpack(substr($frame, 4)), "$codecName unpacks the $name example");
        }
    }
});

test('pure packer is byte-identical to ext-msgpack (every ini mode, whole corpus)', function (): void {
    requireExt();
    $compared = 0;
    foreach (Golden::modes() as $modeName => $mode) {
        $packer = Golden::packer($mode);
        foreach ($mode['values'] as $name => $value) {
            $ext = Golden::extPack($mode, $value);
            $pure = $packer->pack($value);
            if ($ext !== $pure) {
                fail(sprintf("%s/%s differs\n  ext:  %s\n  pure: %s", $modeName, $name, show($ext), show($pure)));
            }
            $compared++;
        }
    }
    assertTrue($compared > 500, "compared only $compared values");
});

test('pure packer is byte-identical to the recorded ext-msgpack bytes (golden file)', function (): void {
    $golden = Golden::load();
    $compared = 0;
    foreach (Golden::modes() as $modeName => $mode) {
        $packer = Golden::packer($mode);
        foreach ($mode['values'] as $name => $value) {
            $key = $modeName . '/' . $name;
            assertTrue(isset($golden[$key]), "no golden entry for $key: regenerate with support/generate-golden.php");
            assertSame($golden[$key], Golden::fingerprint($packer->pack($value)), $key);
            $compared++;
        }
    }
    assertSame(count($golden), $compared, 'golden entries vs corpus values');
});

test('the golden file is current for the loaded ext-msgpack', function (): void {
    requireExt();
    $golden = Golden::load();
    foreach (Golden::modes() as $modeName => $mode) {
        foreach ($mode['values'] as $name => $value) {
            $key = $modeName . '/' . $name;
            assertSame($golden[$key] ?? null, Golden::fingerprint(Golden::extPack($mode, $value)), $key);
        }
    }
});

test('pure decoder reads packed data back to identical values', function (): void {
    $unpacker = new Unpacker();
    $packer = new Packer();
    foreach (ValueCorpus::data() as $name => $value) {
        $bytes = extension_loaded('msgpack') ? msgpack_pack($value) : $packer->pack($value);
        assertIdentical($value, $unpacker->unpack($bytes), "pure decode of $name");
        if (extension_loaded('msgpack')) {
            assertIdentical($value, (new ExtCodec())->unpack($bytes), "ext decode of $name");
        }
    }
});

test('pure decoder turns packed objects into plain arrays', function (): void {
    $unpacker = new Unpacker();
    $packer = new Packer();
    assertSame(['' => 'stdClass', 'a' => 1, 'b' => [1, 2]], $unpacker->unpack($packer->pack((object) ['a' => 1, 'b' => [1, 2]])));
    assertSame(
        ['' => 'Folk\Worker\Tests\Fixtures\Visibility', 'a' => 1, "\0*\0b" => 'two', "\0Folk\Worker\Tests\Fixtures\Visibility\0c" => [3], 'child' => null],
        $unpacker->unpack($packer->pack(new Fixtures\Visibility())),
    );
    assertSame([1, 'two', [3], null], $unpacker->unpack((new Packer(phpOnly: false))->pack(new Fixtures\Visibility())));
});

test('decoder accepts every encoding PROTOCOL.md allows', function (): void {
    $cases = [
        // bin8/16/32 and str8/16/32 (also in non-minimal widths) all become strings
        'c4 03 616263' => 'abc',
        'c5 0003 616263' => 'abc',
        'c6 00000003 616263' => 'abc',
        'c4 00' => '',
        'd9 03 616263' => 'abc',
        'da 0003 616263' => 'abc',
        'db 00000003 616263' => 'abc',
        'c4 02 00ff' => "\x00\xff",
        // ints of every width, signed and unsigned
        'cc 05' => 5, 'cd 0005' => 5, 'ce 00000005' => 5, 'cf 0000000000000005' => 5,
        'cc ff' => 255, 'cd ffff' => 65535, 'ce ffffffff' => 4294967295,
        'cf 7fffffffffffffff' => PHP_INT_MAX,
        'cf 8000000000000000' => '9223372036854775808',
        'cf ffffffffffffffff' => '18446744073709551615',
        'd0 ff' => -1, 'd0 80' => -128, 'd0 05' => 5,
        'd1 ffff' => -1, 'd1 8000' => -32768,
        'd2 ffffffff' => -1, 'd2 80000000' => -2147483648,
        'd3 ffffffffffffffff' => -1, 'd3 8000000000000000' => PHP_INT_MIN,
        'e0' => -32, 'ff' => -1, '7f' => 127,
        // floats
        'ca 3fc00000' => 1.5, 'ca bf800000' => -1.0, 'ca 7f800000' => INF,
        'cb 3ff8000000000000' => 1.5, 'cb 8000000000000000' => -0.0,
        // containers of every width
        'dc 0002 01 02' => [1, 2],
        'dd 00000002 01 02' => [1, 2],
        'de 0001 a161 01' => ['a' => 1],
        'df 00000001 a161 01' => ['a' => 1],
        '90' => [],
        // map keys as PHP's array rules (and ext-msgpack) make them
        '82 a131 01 a2 3031 02' => [1 => 1, '01' => 2],
        '81 a2 2d31 01' => [-1 => 1],
        '82 a161 01 a161 02' => ['a' => 2],
        '81 c3 02' => [1 => 2],
        '81 c2 03' => ['' => 3],
        '81 cb 3ff8000000000000 04' => ['1.5' => 4],
        '81 91 01 01' => ['Array' => 1],
        '81 c4 01 ff 01' => ["\xff" => 1],
    ];
    foreach ($cases as $hex => $expected) {
        $bytes = hex2bin(str_replace(' ', '', (string) $hex));
        assertIdentical($expected, (new Unpacker())->unpack($bytes), "pure decode of $hex");
        if (extension_loaded('msgpack')) {
            assertIdentical($expected, @(new ExtCodec())->unpack($bytes), "ext decode of $hex");
        }
    }
    // A nil key stays an array key "" (ext-msgpack would treat it as a class-name marker).
    assertSame(['' => 1, 'a' => 2], (new Unpacker())->unpack(hex2bin('82c001a16102')));
    // An empty map becomes an empty object, as ext-msgpack does by default.
    assertTrue((new Unpacker())->unpack("\x80") == new \stdClass(), 'empty map decodes to an empty stdClass');
});

test('decoder rejects hostile and malformed input quickly', function (): void {
    $cases = [
        '' => 'empty input',
        'c1' => 'invalid type byte',
        'd4 01 02' => 'ext types',
        'c7 01 00 00' => 'ext types',
        'a3 6162' => 'declared length 3',
        'd9 ff 61' => 'declared length 255',
        'db ffffffff 61' => 'declared length 4294967295',
        'c6 ffffffff' => 'declared length',
        'dd ffffffff 01' => 'container declares 4294967295',
        'df ffffffff 01 01' => 'container declares 4294967295',
        'de ffff' => 'container declares 65535',
        '93 01 02' => 'container declares 3 element(s) but only 2 byte(s) remain',
        '92 a161' => 'truncated input at offset 3',
        '82 a161 01 a162' => 'truncated input at offset 6',
        'cb 3ff8' => 'declared length 8',
        'cf 00' => 'declared length 8',
        '01 02' => 'trailing',
        '90 c0' => 'trailing',
        str_repeat('91', 100000) . '01' => 'nesting deeper than 512',
        str_repeat('81 a0', 600) . '01' => 'nesting deeper than 512',
    ];
    $start = hrtime(true);
    foreach ($cases as $hex => $message) {
        $bytes = (string) hex2bin(str_replace(' ', '', (string) $hex));
        assertThrows(DecodeException::class, fn () => (new Unpacker())->unpack($bytes), $message);
        if (extension_loaded('msgpack') && $message !== 'ext types' && !str_starts_with($message, 'nesting')) {
            assertThrows(DecodeException::class, fn () => (new ExtCodec())->unpack($bytes));
        }
    }
    assertTrue((hrtime(true) - $start) < 1e9, 'hostile inputs took more than a second');
    // The depth limit is configurable.
    assertSame([[[1]]], (new Unpacker(3))->unpack("\x91\x91\x91\x01"));
    assertThrows(DecodeException::class, fn () => (new Unpacker(2))->unpack("\x91\x91\x91\x01"), 'nesting deeper than 2');
});

test('an ext value is rejected once the whole input is read, with what was decoded and a null in its place', function (): void {
    // [0, 7, "echo", {"at": timestamp 1, "n": 1}]: what a Java master sent for an Instant before it sent ISO-8601.
    $bytes = (string) hex2bin('940007a46563686f82a26174d6ff00000001a16e01');
    $e = null;
    try {
        (new Unpacker())->unpack($bytes);
    } catch (UnsupportedExtException $caught) {
        $e = $caught;
    }
    assertTrue($e instanceof UnsupportedExtException, 'an UnsupportedExtException');
    assertSame(-1, $e->extType);
    assertSame(12, $e->offset);
    assertSame([0, 7, 'echo', ['at' => null, 'n' => 1]], $e->decoded);
    assertContains('ext types are not supported (type -1 at offset 12)', $e->getMessage());
    // Malformed stays malformed: a truncated ext is a plain DecodeException.
    foreach (['d6 ff 00', 'c7 05 01 00', 'c9 ffffffff 01'] as $hex) {
        $truncated = (string) hex2bin(str_replace(' ', '', $hex));
        try {
            (new Unpacker())->unpack($truncated);
            fail("no exception for $hex");
        } catch (DecodeException $d) {
            assertTrue(!$d instanceof UnsupportedExtException, "$hex is malformed, not merely unsupported");
        }
    }
});

test('every truncation of valid data is rejected', function (): void {
    $packer = new Packer();
    $corpus = ValueCorpus::data();
    foreach (['nested', 'http params', 'map mixed keys', 'float 1.5', 'int -2147483649', 'str len 256', 'random 7', 'random 42'] as $name) {
        $bytes = $packer->pack($corpus[$name]);
        for ($n = 0; $n < strlen($bytes); $n++) {
            assertThrows(DecodeException::class, fn () => (new Unpacker())->unpack(substr($bytes, 0, $n)));
        }
    }
});

test('packer refuses what ext-msgpack refuses and packs resources as nil', function (): void {
    $values = ['closure' => static fn (): int => 1, 'anonymous class' => new class () {
    }];
    foreach ($values as $name => $value) {
        $pure = assertThrows(\Exception::class, fn () => (new Packer())->pack([$value]), 'is not allowed');
        if (extension_loaded('msgpack')) {
            $ext = assertThrows(\Exception::class, fn () => msgpack_pack([$value]));
            assertSame($ext->getMessage(), $pure->getMessage(), $name);
        }
    }
    $resource = fopen('php://memory', 'r');
    assertSame("\x91\xc0", (new Packer())->pack([$resource]));
    if (extension_loaded('msgpack')) {
        assertSame("\x91\xc0", @msgpack_pack([$resource]));
    }
    $cycle = new \stdClass();
    $cycle->self = $cycle;
    assertThrows(\RuntimeException::class, fn () => (new Packer())->pack($cycle), 'nested deeper');
});
