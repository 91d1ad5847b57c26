<?php

// A session guard over the database's users table, as `laravel new` sets it up (the table is never
// read: the /auth-guard route asks for the user of a guest).
return [
    'defaults' => ['guard' => 'web'],
    'guards' => [
        'web' => ['driver' => 'session', 'provider' => 'users'],
    ],
    'providers' => [
        'users' => ['driver' => 'database', 'table' => 'users'],
    ],
];
