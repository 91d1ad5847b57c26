<?php
// The auto_prepend_file of settings/.user.ini: at the top level, before each script (as a firewall is installed).
$prepended = 'set at the top level by ' . basename(__FILE__);
function prepended_function(): string
{
    return 'declared before the script';
}
