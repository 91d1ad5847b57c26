<?php
// The settings the CLI forces over php.ini, as the request's script has them.
header('Content-Type: application/json');
echo json_encode(array_map('ini_get', ['max_execution_time', 'output_buffering', 'html_errors', 'max_input_time'])), "\n";
