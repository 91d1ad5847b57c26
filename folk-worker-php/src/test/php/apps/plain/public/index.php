<?php

// PHP-FPM front controller of the plain-handler script.
(require __DIR__ . '/../script.php')($_GET);
