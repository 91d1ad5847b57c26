<?php

declare(strict_types=1);

namespace Folk\Worker\MessagePack;

/**
 * The input was well-formed but held an ext value, which {@see Unpacker} does not decode (it
 * never creates objects). Thrown once the whole input was read, with what was decoded, a null in
 * place of each ext value: a worker can still answer a request that carries one.
 */
final class UnsupportedExtException extends DecodeException
{
    public function __construct(public readonly int $extType, public readonly int $offset, public readonly mixed $decoded)
    {
        parent::__construct(sprintf('ext types are not supported (type %d at offset %d)', $extType, $offset));
    }
}
