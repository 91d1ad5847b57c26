<?php
echo 'admin index ', $_SERVER['SCRIPT_NAME'], ' in ', basename(getcwd()), "\n";
