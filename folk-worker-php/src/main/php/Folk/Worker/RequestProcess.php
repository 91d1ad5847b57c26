<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * @internal Thrown in the process a handler forked for its call ({@see Worker::leaveForRequestProcess()}):
 * it takes that process out of the serve loop with the call still open. Never an answer.
 */
final class RequestProcess extends \Exception
{
}
