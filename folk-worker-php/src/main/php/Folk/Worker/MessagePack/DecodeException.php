<?php

declare(strict_types=1);

namespace Folk\Worker\MessagePack;

/** Malformed, truncated, over-nested or otherwise unacceptable MessagePack input. */
class DecodeException extends \RuntimeException
{
}
