<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * The peer broke the wire contract (bad frame length, truncated frame, undecodable payload,
 * malformed request). The worker cannot resynchronise and exits with a non-zero code.
 */
final class ProtocolException extends \RuntimeException
{
}
