<?php
// The auto_append_file of settings/.user.ini: after the script, unless it exits.
echo "\nappended after ", basename($_SERVER['SCRIPT_NAME']);
