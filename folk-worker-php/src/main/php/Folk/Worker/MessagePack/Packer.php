<?php

declare(strict_types=1);

namespace Folk\Worker\MessagePack;

/**
 * MessagePack packer in plain PHP whose output is byte-identical to ext-msgpack's msgpack_pack()
 * for the values a worker exchanges:
 *
 * - null, bool; ints in their smallest encoding (non-negative ints as positive fixint / uint8..64,
 *   negative ones as negative fixint / int8..64); floats always as float64;
 * - every PHP string as str (fixstr, str8, str16, str32; str8 can be switched off like
 *   msgpack.use_str8_serialization=0), binary data included;
 * - arrays: the empty array as 0x90, a list (array_is_list) as array, anything else as map
 *   with int keys packed as ints and string keys as str;
 * - objects as ext-msgpack packs them: with php_only (the extension's default) a map whose first
 *   entry is nil => class name followed by the properties (mangled names for protected/private
 *   ones); without php_only a plain array of the property values. __serialize(), __sleep() and
 *   Serializable are honoured the way the extension does. Closures, generators and the like throw.
 *
 * Not reproduced: ext-msgpack's php_only back-references for PHP references (&$x) and for the
 * same object instance appearing twice; here those are packed by value. Resources pack as nil.
 */
final class Packer
{
    /** Guards against self-referencing object graphs. */
    private const MAX_DEPTH = 1024;

    /**
     * @param bool $phpOnly like msgpack.php_only (ext default: on): objects carry their class name
     * @param bool $str8    like msgpack.use_str8_serialization (ext default: on)
     */
    public function __construct(
        private readonly bool $phpOnly = true,
        private readonly bool $str8 = true,
    ) {
    }

    /** A packer configured like the loaded extension's ini settings (or its defaults). */
    public static function likeExtension(): self
    {
        if (!extension_loaded('msgpack')) {
            return new self();
        }
        return new self(
            phpOnly: filter_var(ini_get('msgpack.php_only'), FILTER_VALIDATE_BOOLEAN),
            str8: filter_var(ini_get('msgpack.use_str8_serialization'), FILTER_VALIDATE_BOOLEAN),
        );
    }

    public function pack(mixed $value): string
    {
        return $this->packValue($value, 0);
    }

    private function packValue(mixed $value, int $depth): string
    {
        switch (gettype($value)) {
            case 'string':
                return $this->packString($value);
            case 'integer':
                return self::packInt($value);
            case 'array':
                return $this->packArray($value, $depth);
            case 'NULL':
                return "\xc0";
            case 'boolean':
                return $value ? "\xc3" : "\xc2";
            case 'double':
                return "\xcb" . pack('E', $value);
            case 'object':
                return $this->packObject($value, $depth);
            default: // resources: ext-msgpack warns and packs nil
                return "\xc0";
        }
    }

    private static function packInt(int $v): string
    {
        if ($v >= 0) {
            if ($v < 0x80) {
                return chr($v);
            }
            if ($v <= 0xff) {
                return "\xcc" . chr($v);
            }
            if ($v <= 0xffff) {
                return "\xcd" . pack('n', $v);
            }
            if ($v <= 0xffffffff) {
                return "\xce" . pack('N', $v);
            }
            return "\xcf" . pack('J', $v);
        }
        if ($v >= -32) {
            return chr($v & 0xff);
        }
        if ($v >= -128) {
            return "\xd0" . chr($v & 0xff);
        }
        if ($v >= -32768) {
            return "\xd1" . pack('n', $v & 0xffff);
        }
        if ($v >= -2147483648) {
            return "\xd2" . pack('N', $v & 0xffffffff);
        }
        return "\xd3" . pack('J', $v);
    }

    private function packString(string $s): string
    {
        $n = strlen($s);
        if ($n < 32) {
            return chr(0xa0 | $n) . $s;
        }
        if ($n <= 0xff && $this->str8) {
            return "\xd9" . chr($n) . $s;
        }
        if ($n <= 0xffff) {
            return "\xda" . pack('n', $n) . $s;
        }
        return "\xdb" . pack('N', $n) . $s;
    }

    private static function arrayHeader(int $n): string
    {
        if ($n < 16) {
            return chr(0x90 | $n);
        }
        return $n <= 0xffff ? "\xdc" . pack('n', $n) : "\xdd" . pack('N', $n);
    }

    private static function mapHeader(int $n): string
    {
        if ($n < 16) {
            return chr(0x80 | $n);
        }
        return $n <= 0xffff ? "\xde" . pack('n', $n) : "\xdf" . pack('N', $n);
    }

    /** @param array<array-key, mixed> $a */
    private function packArray(array $a, int $depth): string
    {
        if ($a === []) {
            return "\x90";
        }
        $depth = $this->enter($depth);
        if (array_is_list($a)) {
            $out = self::arrayHeader(count($a));
            foreach ($a as $v) {
                $out .= $this->packValue($v, $depth);
            }
            return $out;
        }
        $out = self::mapHeader(count($a));
        foreach ($a as $k => $v) {
            $out .= (is_int($k) ? self::packInt($k) : $this->packString($k)) . $this->packValue($v, $depth);
        }
        return $out;
    }

    private function packObject(object $o, int $depth): string
    {
        if (self::isNotSerializable($o)) {
            $name = get_class($o);
            $name = strstr($name, "\0", true) ?: $name; // anonymous classes: "class@anonymous"
            throw new \Exception(sprintf("Serialization of '%s' is not allowed", $name));
        }
        $depth = $this->enter($depth);
        $class = $this->packString(get_class($o));

        if (method_exists($o, '__serialize')) {
            $data = $o->__serialize();
            if (!is_array($data)) {
                throw new \TypeError(get_class($o) . '::__serialize() must return an array');
            }
            return "\x82\xc0" . $class . "\xc0" . $this->packValue($data, $depth);
        }
        if ($o instanceof \Serializable) {
            $data = $o->serialize();
            return $data === null ? "\xc0" : "\x82\xc0\x03" . $class . $this->packString((string) $data);
        }
        if (method_exists($o, '__sleep')) {
            return $this->packSleep($o, $class, $depth);
        }

        $props = (array) $o;
        if (!$this->phpOnly) {
            $out = self::arrayHeader(count($props));
            foreach ($props as $v) {
                $out .= $this->packValue($v, $depth);
            }
            return $out;
        }
        $out = self::mapHeader(count($props) + 1) . "\xc0" . $class;
        foreach ($props as $k => $v) {
            // Property names are strings even when PHP's (array) cast turned "0" into int 0.
            $out .= $this->packString((string) $k) . $this->packValue($v, $depth);
        }
        return $out;
    }

    /** __sleep(): only the listed properties, looked up as public, protected, then own private. */
    private function packSleep(object $o, string $packedClass, int $depth): string
    {
        $names = $o->__sleep();
        if (!is_array($names)) {
            return "\xc0";
        }
        $props = (array) $o;
        $private = "\0" . get_class($o) . "\0";
        $out = self::mapHeader(count($names) + 1) . "\xc0" . $packedClass;
        foreach ($names as $name) {
            $name = (string) $name;
            $value = null;
            foreach ([$name, "\0*\0" . $name, $private . $name] as $key) {
                if (array_key_exists($key, $props)) {
                    $name = $key;
                    $value = $props[$key];
                    break;
                }
            }
            $out .= $this->packString($name) . $this->packValue($value, $depth);
        }
        return $out;
    }

    private static function isNotSerializable(object $o): bool
    {
        return $o instanceof \Closure
            || $o instanceof \Generator
            || $o instanceof \Fiber
            || $o instanceof \WeakMap
            || $o instanceof \WeakReference
            || (new \ReflectionClass($o))->isAnonymous();
    }

    private function enter(int $depth): int
    {
        if ($depth >= self::MAX_DEPTH) {
            throw new \RuntimeException('value nested deeper than ' . self::MAX_DEPTH . ' levels (a reference cycle?)');
        }
        return $depth + 1;
    }
}
