<?php
// The settings below settings/deeper: its .user.ini over settings/.user.ini.
require __DIR__ . '/../show.php';
