<?php

declare(strict_types=1);

namespace Folk\Worker\MessagePack;

/**
 * Turns PHP values into MessagePack bytes and back.
 *
 * Two implementations exist: {@see ExtCodec} (ext-msgpack) and {@see PureCodec} (plain PHP,
 * byte-identical output). {@see MessagePack::codec()} picks the best available one.
 */
interface Codec
{
    /**
     * Packs one value.
     *
     * @throws \Throwable when the value cannot be serialized (for example a Closure)
     */
    public function pack(mixed $value): string;

    /**
     * Unpacks exactly one value; the whole input must be consumed.
     *
     * @throws DecodeException on malformed, truncated or trailing input
     */
    public function unpack(string $bytes): mixed;

    /** A short name for diagnostics: "ext-msgpack" or "pure". */
    public function name(): string;
}
