<?php
echo 'before the error';
undefined_function_of_a_legacy_script();
