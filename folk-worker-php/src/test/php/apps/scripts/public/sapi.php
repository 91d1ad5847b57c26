<?php
// What a script asks to know whether it runs on a command line (CodeIgniter 3's is_cli(): PHP_SAPI
// or STDIN), and phpinfo()'s kind of page.
ob_start();
phpinfo(INFO_GENERAL);
$info = ob_get_clean();
preg_match('~Server API\s*(?:</td><td class="v">)?\s*([^<\n]+?)\s*(?:</td>|\n)~', $info, $api);
header('Content-Type: application/json');
echo json_encode([
    'PHP_SAPI' => PHP_SAPI,
    'php_sapi_name' => php_sapi_name(),
    'STDIN' => defined('STDIN'),
    'STDOUT' => defined('STDOUT'),
    'STDERR' => defined('STDERR'),
    'argv' => isset($argv) || isset($GLOBALS['argv']),
    'argc' => isset($argc),
    'html' => str_starts_with($info, '<!DOCTYPE html'),
    'server_api' => $api[1] ?? null,
]), "\n";
