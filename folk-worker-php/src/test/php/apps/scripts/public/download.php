<?php
// A download as legacy code writes it (../../legacy-download.php): ?kb=, &sized=1, &closed=1.
(require __DIR__ . '/../../legacy-download.php')((int) ($_GET['kb'] ?? 200), isset($_GET['sized']), isset($_GET['closed']));
