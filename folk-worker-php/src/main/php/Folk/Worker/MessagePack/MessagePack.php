<?php

declare(strict_types=1);

namespace Folk\Worker\MessagePack;

/** Entry point: picks ext-msgpack when it is loaded, the pure-PHP codec otherwise. */
final class MessagePack
{
    private static ?Codec $default = null;

    private function __construct()
    {
    }

    /** The shared default codec (ext-msgpack when loaded, else pure PHP). */
    public static function codec(): Codec
    {
        return self::$default ??= extension_loaded('msgpack') ? new ExtCodec() : new PureCodec();
    }

    public static function pack(mixed $value): string
    {
        return self::codec()->pack($value);
    }

    /** @throws DecodeException */
    public static function unpack(string $bytes): mixed
    {
        return self::codec()->unpack($bytes);
    }
}
