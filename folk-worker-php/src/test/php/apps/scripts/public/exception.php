<?php
echo 'before the exception';
throw new RuntimeException('an exception nobody catches');
