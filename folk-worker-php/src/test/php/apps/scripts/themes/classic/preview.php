<?php
// A script reached through a link out of the public directory (public/theme -> ../themes/classic),
// as Debian's packaged applications have them: nginx + PHP-FPM run it, and so does the worker.
header('Content-Type: text/plain');
echo 'preview ', $_SERVER['SCRIPT_NAME'], ' ', substr($_SERVER['SCRIPT_FILENAME'], strlen($_SERVER['DOCUMENT_ROOT'])),
    ' ', basename(__DIR__), ' ', basename(getcwd()), "\n";
