<?php

declare(strict_types=1);

namespace Folk\Worker\MessagePack;

/**
 * Codec backed by ext-msgpack (msgpack_pack / MessagePackUnpacker).
 *
 * Packing follows the extension's ini settings (msgpack.php_only, msgpack.use_str8_serialization).
 * Unpacking uses the incremental unpacker so that truncated input and trailing bytes are
 * reported instead of being silently accepted or confused with a packed `false`.
 */
final class ExtCodec implements Codec
{
    private readonly \MessagePackUnpacker $unpacker;

    public function __construct()
    {
        if (!extension_loaded('msgpack')) {
            throw new \LogicException('ext-msgpack is not loaded');
        }
        $this->unpacker = new \MessagePackUnpacker();
    }

    public function pack(mixed $value): string
    {
        return msgpack_pack($value);
    }

    public function unpack(string $bytes): mixed
    {
        if ($bytes === '') {
            throw new DecodeException('empty input');
        }
        $this->unpacker->reset();
        $offset = 0;
        try {
            if (!@$this->unpacker->execute($bytes, $offset)) {
                throw new DecodeException('malformed or truncated MessagePack data (ext-msgpack)');
            }
            if ($offset !== strlen($bytes)) {
                throw new DecodeException(sprintf('%d trailing byte(s) after the value', strlen($bytes) - $offset));
            }
            return $this->unpacker->data();
        } finally {
            $this->unpacker->reset();
        }
    }

    public function name(): string
    {
        return 'ext-msgpack';
    }
}
