<?php

namespace App\Facades;

use Illuminate\Support\Facades\Facade;

/** The facade of the scoped `request.token` service (bootstrap/app.php). */
class RequestToken extends Facade
{
    protected static function getFacadeAccessor()
    {
        return 'request.token';
    }
}
