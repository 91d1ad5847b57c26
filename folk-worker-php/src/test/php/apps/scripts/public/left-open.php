<?php
// What a script leaves open for PHP to close at the request's end: a temporary file, a php://temp
// past its memory, a gzip file written and never gzclose()d (its last block is written at the close).
$GLOBALS['tmp'] = tmpfile();
fwrite($GLOBALS['tmp'], 'scratch');
$GLOBALS['temp'] = fopen('php://temp/maxmemory:16', 'w+');
fwrite($GLOBALS['temp'], str_repeat('t', 100));
$GLOBALS['gz'] = gzopen(sys_get_temp_dir() . '/left-open-' . ($_GET['n'] ?? '0') . '.gz', 'w');
gzwrite($GLOBALS['gz'], "the whole text\n");
echo "left open\n";
