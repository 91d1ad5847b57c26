<?php
// A native session across requests, and a cookie of the script's own.
session_start();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
setcookie('seen', 'yes', ['path' => '/admin/', 'httponly' => true]);
echo 'visits: ', $_SESSION['visits'], "\n";
