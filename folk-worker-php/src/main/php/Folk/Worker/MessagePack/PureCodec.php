<?php

declare(strict_types=1);

namespace Folk\Worker\MessagePack;

/** Codec in plain PHP: {@see Packer} and {@see Unpacker}. */
final class PureCodec implements Codec
{
    private readonly Packer $packer;
    private readonly Unpacker $unpacker;

    public function __construct(?Packer $packer = null, ?Unpacker $unpacker = null)
    {
        $this->packer = $packer ?? Packer::likeExtension();
        $this->unpacker = $unpacker ?? new Unpacker();
    }

    public function pack(mixed $value): string
    {
        return $this->packer->pack($value);
    }

    public function unpack(string $bytes): mixed
    {
        return $this->unpacker->unpack($bytes);
    }

    public function name(): string
    {
        return 'pure';
    }
}
