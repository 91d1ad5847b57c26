<?php

use Illuminate\Http\Request;
use Illuminate\Support\Facades\Route;

Route::get('/', fn () => "<!doctype html>\n<title>Laravel</title>\n<h1>Hello from Laravel</h1>\n");

Route::get('/json', fn (Request $request) => response()->json(['framework' => 'laravel', 'query' => $request->query()]));

Route::post('/form', fn (Request $request) => response()->json(['fields' => $request->post(), 'cookies' => $request->cookies->all()]));

Route::post('/upload', function (Request $request) {
    $describeUploads = require dirname(__DIR__, 2) . '/describe-uploads.php';
    return response()->json(['files' => $describeUploads($request->allFiles()), 'fields' => $request->post()]);
});

Route::get('/redirect', fn () => redirect('/json?from=redirect'));

Route::get('/session', function (Request $request) {
    $count = $request->session()->get('count', 0) + 1;
    $request->session()->put('count', $count);
    return response()->json(['count' => $count]);
});

Route::get('/exception', function () {
    throw new RuntimeException('this route always fails');
});
