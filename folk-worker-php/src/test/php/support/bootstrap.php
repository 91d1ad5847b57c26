<?php

/* Loads the library, the harness and the fixtures (shared by run-tests.php and the tools). */

declare(strict_types=1);

require __DIR__ . '/../../../main/php/autoload.php';
require __DIR__ . '/Testing.php';
require __DIR__ . '/TestMaster.php';
require __DIR__ . '/ValueCorpus.php';
require __DIR__ . '/Golden.php';
require __DIR__ . '/HttpCompare.php';
require __DIR__ . '/../fixtures/classes.php';
$level = error_reporting(error_reporting() & ~E_DEPRECATED);
require __DIR__ . '/../fixtures/serializable.php';
error_reporting($level);
