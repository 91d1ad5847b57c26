<?php
// What a script knows of itself and of the requests before it: nothing, under PHP-FPM.
const GREETING = 'hi';
$count = ($count ?? 0) + 1;

function counted(): int
{
    global $count;
    return $count;
}

final class Info
{
    public static int $calls = 0;
}

Info::$calls++;
ini_set('precision', '5');
date_default_timezone_set('Pacific/Auckland');
header('Content-Type: application/json');
echo json_encode([
    'script' => $_SERVER['SCRIPT_NAME'],
    'self' => $_SERVER['PHP_SELF'],
    'path_info' => $_SERVER['PATH_INFO'] ?? null,
    'document_uri' => $_SERVER['DOCUMENT_URI'] ?? null,
    'redirect_status' => $_SERVER['REDIRECT_STATUS'] ?? null,
    'file' => substr($_SERVER['SCRIPT_FILENAME'], strlen($_SERVER['DOCUMENT_ROOT'])),
    'cwd' => basename(getcwd()),
    'global' => counted(),
    'static' => Info::$calls,
    'constant' => GREETING,
    'get' => $_GET,
    'method' => $_SERVER['REQUEST_METHOD'],
    'uri' => $_SERVER['REQUEST_URI'],
]), "\n";
