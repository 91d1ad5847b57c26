<?php
// ../output.php without output_buffering (this directory's .user.ini).
require __DIR__ . '/../output.php';
