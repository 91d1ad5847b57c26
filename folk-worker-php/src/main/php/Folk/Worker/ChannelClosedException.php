<?php

declare(strict_types=1);

namespace Folk\Worker;

/** The peer end of a channel is gone (EOF on read at a frame boundary, or a failed write). */
final class ChannelClosedException extends \RuntimeException
{
}
