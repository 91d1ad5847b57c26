<?php

namespace App\Logging;

use Illuminate\Log\Logger;
use Monolog\Processor\UidProcessor;

/**
 * A log channel's tap that marks every line with an id of its request (Monolog's UidProcessor),
 * as applications do to tell one request's lines from another's.
 */
class RequestUid
{
    public function __invoke(Logger $logger): void
    {
        $logger->getLogger()->pushProcessor(new UidProcessor());
    }
}
