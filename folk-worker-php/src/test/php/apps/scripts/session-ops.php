<?php
// The front controller's /session-ops: the native session operations every application answers
// (../native-session-ops.php), those on the session's settings included, which a request's own
// process forgets with it.
$ops = require __DIR__ . '/../native-session-ops.php';
header('Content-Type: application/json');
echo json_encode($ops((string) ($_GET['ops'] ?? '')));
