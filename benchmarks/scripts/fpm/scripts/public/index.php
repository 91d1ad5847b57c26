<?php
// The front controller PHP-FPM's setup needs (serve.sh): the benchmark asks for the scripts by name.
http_response_code(404);
echo "No page here\n";
