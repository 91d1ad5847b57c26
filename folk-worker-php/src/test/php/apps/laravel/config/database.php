<?php

// SQLite in the application's state directory (created by bootstrap/app.php), for the /db routes.
return [
    'default' => 'sqlite',
    'connections' => [
        'sqlite' => ['driver' => 'sqlite', 'database' => storage_path('database.sqlite'), 'prefix' => '',
            'foreign_key_constraints' => true],
    ],
];
