<?php

declare(strict_types=1);

namespace Folk\Worker\MessagePack;

/**
 * MessagePack unpacker in plain PHP, built to read untrusted input.
 *
 * Decodes nil, bool, every int and uint width (a uint64 above PHP_INT_MAX becomes a decimal
 * string, as with ext-msgpack), float32/64, str8/16/32 and bin8/16/32 (both become PHP
 * strings), array16/32 and map16/32 (maps become PHP arrays; keys follow PHP's array-key rules,
 * so "12" becomes 12, nil becomes "", a container key becomes "Array" as with the extension).
 * Like ext-msgpack's default, an empty map (0x80) becomes an empty \stdClass.
 *
 * Deliberate differences from ext-msgpack: ext types are rejected (with an
 * {@see UnsupportedExtException} after the whole input was read, so that a request that holds one
 * can still be answered), trailing bytes are an error,
 * and a map with a nil key stays a plain array (the extension would instantiate the class named
 * there; this decoder never creates objects other than the empty \stdClass).
 *
 * Hostile input: a declared length or element count beyond the remaining input and nesting
 * deeper than the configured limit raise {@see DecodeException} before any work or allocation.
 */
final class Unpacker
{
    public const DEFAULT_MAX_DEPTH = 512;

    private string $buf = '';
    private int $pos = 0;
    private int $len = 0;
    /** The first ext value met: [type, offset], or null. */
    private ?array $ext = null;

    public function __construct(private readonly int $maxDepth = self::DEFAULT_MAX_DEPTH)
    {
        if ($maxDepth < 1) {
            throw new \InvalidArgumentException('maxDepth must be at least 1');
        }
    }

    /** @throws DecodeException */
    public function unpack(string $bytes): mixed
    {
        if ($bytes === '') {
            throw new DecodeException('empty input');
        }
        $this->buf = $bytes;
        $this->pos = 0;
        $this->len = strlen($bytes);
        $this->ext = null;
        try {
            $value = $this->value(0);
            if ($this->pos !== $this->len) {
                throw new DecodeException(sprintf('%d trailing byte(s) after the value', $this->len - $this->pos));
            }
            if ($this->ext !== null) {
                throw new UnsupportedExtException($this->ext[0], $this->ext[1], $value);
            }
            return $value;
        } finally {
            $this->buf = '';
        }
    }

    private function value(int $depth): mixed
    {
        if ($this->pos >= $this->len) {
            throw new DecodeException('truncated input at offset ' . $this->pos);
        }
        $b = ord($this->buf[$this->pos++]);
        if ($b <= 0x7f) {
            return $b;
        }
        if ($b >= 0xe0) {
            return $b - 0x100;
        }
        if ($b >= 0xa0 && $b <= 0xbf) {
            return $this->take($b & 0x1f);
        }
        if ($b >= 0x90 && $b <= 0x9f) {
            return $this->list($b & 0x0f, $depth);
        }
        if ($b <= 0x8f) {
            return $this->map($b & 0x0f, $depth);
        }
        switch ($b) {
            case 0xc0:
                return null;
            case 0xc2:
                return false;
            case 0xc3:
                return true;
            case 0xc4:
            case 0xd9:
                return $this->take($this->u8());
            case 0xc5:
            case 0xda:
                return $this->take($this->u16());
            case 0xc6:
            case 0xdb:
                return $this->take($this->u32());
            case 0xca:
                return unpack('G', $this->take(4))[1];
            case 0xcb:
                return unpack('E', $this->take(8))[1];
            case 0xcc:
                return $this->u8();
            case 0xcd:
                return $this->u16();
            case 0xce:
                return $this->u32();
            case 0xcf:
                $v = unpack('J', $this->take(8))[1];
                return $v >= 0 ? $v : sprintf('%u', $v);
            case 0xd0:
                $v = $this->u8();
                return $v >= 0x80 ? $v - 0x100 : $v;
            case 0xd1:
                $v = $this->u16();
                return $v >= 0x8000 ? $v - 0x10000 : $v;
            case 0xd2:
                $v = $this->u32();
                return $v >= 0x80000000 ? $v - 0x100000000 : $v;
            case 0xd3:
                return unpack('J', $this->take(8))[1];
            case 0xdc:
                return $this->list($this->u16(), $depth);
            case 0xdd:
                return $this->list($this->u32(), $depth);
            case 0xde:
                return $this->map($this->u16(), $depth);
            case 0xdf:
                return $this->map($this->u32(), $depth);
            case 0xd4:
                return $this->ext($this->pos - 1, 1);
            case 0xd5:
                return $this->ext($this->pos - 1, 2);
            case 0xd6:
                return $this->ext($this->pos - 1, 4);
            case 0xd7:
                return $this->ext($this->pos - 1, 8);
            case 0xd8:
                return $this->ext($this->pos - 1, 16);
            case 0xc7:
                return $this->ext($this->pos - 1, $this->u8());
            case 0xc8:
                return $this->ext($this->pos - 1, $this->u16());
            case 0xc9:
                return $this->ext($this->pos - 1, $this->u32());
            default: // 0xc1
                throw new DecodeException(sprintf('invalid type byte 0x%02x at offset %d', $b, $this->pos - 1));
        }
    }

    /** Skips an ext value of $length data bytes, noting the first one met: null in its place. */
    private function ext(int $offset, int $length): mixed
    {
        $type = $this->u8();
        $this->take($length);
        $this->ext ??= [$type >= 0x80 ? $type - 0x100 : $type, $offset];
        return null;
    }

    /** @return list<mixed> */
    private function list(int $count, int $depth): array
    {
        $this->checkContainer($count, 1, $depth);
        $out = [];
        for ($i = 0; $i < $count; $i++) {
            $out[] = $this->value($depth + 1);
        }
        return $out;
    }

    /** @return array<array-key, mixed>|\stdClass */
    private function map(int $count, int $depth): array|\stdClass
    {
        if ($count === 0) {
            return new \stdClass();
        }
        $this->checkContainer($count, 2, $depth);
        $out = [];
        for ($i = 0; $i < $count; $i++) {
            $key = $this->value($depth + 1);
            $out[self::arrayKey($key)] = $this->value($depth + 1);
        }
        return $out;
    }

    private static function arrayKey(mixed $key): int|string
    {
        return match (true) {
            is_int($key), is_string($key) => $key,
            is_array($key), is_object($key) => 'Array',
            default => (string) $key, // nil => "", true => "1" (int 1), false => "", 1.5 => "1.5"
        };
    }

    private function checkContainer(int $count, int $minBytesPerItem, int $depth): void
    {
        if ($depth >= $this->maxDepth) {
            throw new DecodeException('nesting deeper than ' . $this->maxDepth . ' levels');
        }
        $remaining = $this->len - $this->pos;
        if ($count * $minBytesPerItem > $remaining) {
            throw new DecodeException(sprintf(
                'container declares %d element(s) but only %d byte(s) remain',
                $count,
                $remaining,
            ));
        }
    }

    private function take(int $n): string
    {
        if ($n > $this->len - $this->pos) {
            throw new DecodeException(sprintf(
                'declared length %d exceeds the %d remaining byte(s) at offset %d',
                $n,
                $this->len - $this->pos,
                $this->pos,
            ));
        }
        $s = substr($this->buf, $this->pos, $n);
        $this->pos += $n;
        return $s;
    }

    private function u8(): int
    {
        return ord($this->take(1));
    }

    private function u16(): int
    {
        return unpack('n', $this->take(2))[1];
    }

    private function u32(): int
    {
        return unpack('N', $this->take(4))[1];
    }
}
