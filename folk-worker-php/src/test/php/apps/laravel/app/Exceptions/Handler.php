<?php

namespace App\Exceptions;

use Illuminate\Foundation\Exceptions\Handler as ExceptionHandler;
use Illuminate\Support\Facades\Route;
use Symfony\Component\HttpKernel\Exception\NotFoundHttpException;

class Handler extends ExceptionHandler
{
    public function register()
    {
        // A not-found page that names the current route, as layouts do for their navigation
        // (only with ?current-route, else the framework's own page).
        $this->renderable(function (NotFoundHttpException $e, $request) {
            if ($request->query->has('current-route')) {
                return response()->json(['route' => Route::currentRouteName(), 'uri' => Route::current()?->uri()], 404);
            }
        });
    }
}
