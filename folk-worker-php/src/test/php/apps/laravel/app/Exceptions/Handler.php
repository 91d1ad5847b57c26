<?php

namespace App\Exceptions;

use Illuminate\Foundation\Exceptions\Handler as ExceptionHandler;
use Illuminate\Support\Facades\Route;
use Symfony\Component\HttpKernel\Exception\NotFoundHttpException;
use Throwable;

class Handler extends ExceptionHandler
{
    /** As with a log file that cannot be written, while the configuration says so (the /report-fails route). */
    public function report(Throwable $e)
    {
        if (config('logging.unwritable')) {
            throw new \UnexpectedValueException('The stream or file "laravel.log" could not be opened');
        }
        parent::report($e);
    }

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
