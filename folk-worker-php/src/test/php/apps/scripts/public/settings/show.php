<?php
// What the .user.ini files of this directory (and of the document root) set, and what their prepend did.
$seen = [];
foreach (['upload_max_filesize', 'memory_limit', 'session.name', 'auto_prepend_file', 'auto_append_file', 'disable_functions', 'output_buffering'] as $name) {
    $seen[$name] = ini_get($name);
}
$seen['prepended'] = $prepended ?? null;
$seen['function'] = function_exists('prepended_function') ? prepended_function() : null;
$seen['files'] = array_map(static fn (array $f): array => [$f['name'], $f['error'], $f['size']], $_FILES);
echo json_encode($seen);
if (isset($_GET['exit'])) {
    exit;
}
