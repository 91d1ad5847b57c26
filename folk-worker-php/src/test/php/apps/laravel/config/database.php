<?php

// SQLite in the application's state directory (created by bootstrap/app.php), for the /db routes.
return [
    'default' => 'sqlite',
    'connections' => [
        // Without foreign_key_constraints: its PRAGMA, run when the connection is made, counts as a
        // write, and /db/request-state compares the record of writes a request starts with.
        'sqlite' => ['driver' => 'sqlite', 'database' => storage_path('database.sqlite'), 'prefix' => ''],
    ],
];
