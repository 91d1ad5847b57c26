<?php

/*
 * What the /upload route of the Symfony and Laravel applications answers for its files (Symfony's
 * UploadedFile; Laravel's extends it), nested as the request's field names nest them: the same
 * report from every application, so that their answers can be compared.
 */

declare(strict_types=1);

use Symfony\Component\HttpFoundation\File\UploadedFile;

return static function (array $files): array {
    $describe = static function (array|UploadedFile $file) use (&$describe): array {
        if (is_array($file)) {
            return array_map($describe, $file);
        }
        $ok = $file->isValid();
        return [
            'name' => $file->getClientOriginalName(),
            'type' => $file->getClientMimeType(),
            'size' => $ok ? $file->getSize() : null,
            'error' => $file->getError(),
            'sha1' => $ok ? sha1_file($file->getPathname()) : null,
        ];
    };
    return array_map($describe, $files);
};
