<?php
// What PHP says of the running script: its time, inode and owner, and the Last-Modified a session's
// 'private' cache limiter sends from it.
session_cache_limiter('private');
session_start();
header('Content-Type: application/json');
echo json_encode(['lastmod' => getlastmod(), 'inode' => getmyinode(), 'owner' => get_current_user(),
    'uid' => getmyuid(), 'gid' => getmygid(), 'file' => basename(__FILE__)]), "\n";
