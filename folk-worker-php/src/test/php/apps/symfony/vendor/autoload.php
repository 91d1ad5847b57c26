<?php

// What Composer's vendor/autoload.php provides, from Debian's packages under /usr/share/php.
require_once 'Symfony/Component/HttpKernel/autoload.php';
require_once 'Symfony/Component/Routing/autoload.php';
require_once 'Symfony/Component/HttpFoundation/autoload.php';
require_once 'Symfony/Component/EventDispatcher/autoload.php';
require_once 'Symfony/Component/ErrorHandler/autoload.php';
require_once 'Symfony/Component/Runtime/autoload.php';
