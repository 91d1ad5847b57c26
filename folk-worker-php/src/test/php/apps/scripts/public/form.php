<?php
// A form post and its uploads, as PHP parsed them: each file's tmp_name as whether PHP takes it for
// an upload, and its contents' hash; php://input for other bodies (after a multipart body whose
// parsing PHP gave up midway, PHP-FPM's holds the rest of it: a difference left alone).
function uploaded(mixed $tmp): mixed
{
    return is_array($tmp) ? array_map('uploaded', $tmp) : ($tmp === '' ? '' : [is_uploaded_file($tmp), md5_file($tmp)]);
}

$files = $_FILES;
foreach ($files as $field => $file) {
    $files[$field]['tmp_name'] = uploaded($file['tmp_name']);
}
header('Content-Type: application/json');
$multipart = str_starts_with($_SERVER['CONTENT_TYPE'] ?? '', 'multipart/');
echo json_encode(['post' => $_POST, 'files' => $files, 'input' => $multipart ? null : file_get_contents('php://input')]), "\n";
