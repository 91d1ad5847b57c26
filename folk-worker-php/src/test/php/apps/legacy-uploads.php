<?php

/*
 * What legacy upload code does with PHP's own functions, for the applications' POST /legacy-upload
 * route: is_uploaded_file() and move_uploaded_file() on $_FILES, as a plain PHP form handler uses
 * them (the frameworks' own upload classes are /upload's). The same report from every
 * application, so that their answers can be compared.
 */

declare(strict_types=1);

return static function (): string {
    $target = sys_get_temp_dir() . '/legacy-upload-' . getmypid() . '-' . bin2hex(random_bytes(4));
    mkdir($target);
    $report = [];
    try {
        foreach ($_FILES as $field => $file) {
            $tmp = $file['tmp_name'];
            $moved = $target . '/' . basename($file['name']);
            $report[$field] = [
                'uploaded' => is_uploaded_file($tmp),
                'moved' => move_uploaded_file($tmp, $moved),
                'still uploaded' => is_uploaded_file($tmp),
                'left where it was' => file_exists($tmp),
                'sha1' => is_file($moved) ? sha1_file($moved) : null,
            ];
            @unlink($moved);
        }
        // Only what this request uploaded: no other file is taken for one.
        $report['this script'] = is_uploaded_file(__FILE__) || move_uploaded_file(__FILE__, $target . '/script.php');
    } finally {
        @rmdir($target);
    }
    return json_encode($report) . "\n";
};
