<?php

// An array store, as tests and request-level memos use it, for the /cache routes.
return [
    'default' => 'array',
    'stores' => [
        'array' => ['driver' => 'array', 'serialize' => false],
    ],
];
