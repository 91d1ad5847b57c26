<?php
// The front controller of the paths that name no script. Declares a function on every request, as
// legacy code does: a second declaration in one process would be a fatal error.
function page(): string
{
    return 'front';
}

if (parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) === '/session-ops') {
    require __DIR__ . '/../session-ops.php';
    return;
}
echo page(), ' ', $_SERVER['REQUEST_URI'], ' ', $_SERVER['SCRIPT_NAME'], ' ', $_SERVER['PHP_SELF'], ' ', $_SERVER['DOCUMENT_URI'], ' ',
    isset($_SERVER['PATH_INFO']) ? 'path-info' : 'no-path-info', ' ', json_encode($_GET), "\n";
