<?php

// PHP-FPM front controller.
(require __DIR__ . '/../app.php')->run();
