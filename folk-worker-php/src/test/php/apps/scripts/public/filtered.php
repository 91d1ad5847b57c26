<?php
// Output filters a legacy page opens at its top and leaves for PHP to end with the request: ob_gzhandler
// (no Accept-Encoding here: it only adds Vary) and a named filter of its own.
function folk_shout(string $buffer): string
{
    return strtoupper($buffer);
}
ob_start('ob_gzhandler');
ob_start('folk_shout');
echo "a page, filtered\n";
