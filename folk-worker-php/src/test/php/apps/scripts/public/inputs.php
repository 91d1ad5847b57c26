<?php
// The request as the filter extension has it (filter_input() and the like read its own copy, not
// $_GET and the others), beside what a script of the request before it left there: nothing.
header('Content-Type: application/json');
$server = [];
foreach (['REQUEST_METHOD', 'QUERY_STRING', 'REQUEST_URI', 'SCRIPT_NAME', 'PHP_SELF', 'HTTP_HOST', 'HTTP_X_TRACE',
    'CONTENT_TYPE', 'REQUEST_TIME', 'PHP_AUTH_USER', 'HOME', 'PATH'] as $name) {
    $server[$name] = [filter_has_var(INPUT_SERVER, $name), filter_input(INPUT_SERVER, $name)];
}
echo json_encode([
    'get' => filter_input_array(INPUT_GET),
    'post' => filter_input_array(INPUT_POST),
    'cookie' => filter_input_array(INPUT_COOKIE),
    'n' => filter_input(INPUT_GET, 'n', FILTER_VALIDATE_INT),
    'email' => filter_input(INPUT_POST, 'email', FILTER_VALIDATE_EMAIL),
    'has' => [filter_has_var(INPUT_GET, 'n'), filter_has_var(INPUT_POST, 'name'), filter_has_var(INPUT_COOKIE, 'sid')],
    'tags' => filter_input(INPUT_GET, 'tags', FILTER_DEFAULT, FILTER_REQUIRE_ARRAY),
    'server' => $server,
    // getenv() asks PHP-FPM's SAPI first, which answers from the request's FastCGI params.
    'getenv' => [getenv('HTTP_X_TRACE'), getenv('REQUEST_METHOD'), getenv('QUERY_STRING'), is_string(getenv('REMOTE_ADDR')),
        getenv('HTTP_PROXY'), getenv('REQUEST_TIME'), getenv('PHP_AUTH_USER'), getenv('PHP_SELF')],
]), "\n";
