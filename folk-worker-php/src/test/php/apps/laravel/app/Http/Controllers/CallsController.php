<?php

namespace App\Http\Controllers;

use Illuminate\Routing\Controller;

/** A controller that counts the calls its instance served: under PHP-FPM, one per request. */
class CallsController extends Controller
{
    private int $calls = 0;

    public function show()
    {
        return response()->json(['calls' => ++$this->calls]);
    }
}
