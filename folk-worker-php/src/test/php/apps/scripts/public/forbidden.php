<?php
http_response_code(403);
echo 'not for you';
exit(' (exit)');
