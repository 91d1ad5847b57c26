<?php

// Folk\Worker\Scripts: a request whose .user.ini files name an auto_prepend_file or an
// auto_append_file runs them around its script, each at the top level, as PHP runs the three.
if (\Folk\Worker\Scripts::prepended() !== null) {
    require \Folk\Worker\Scripts::prepended();
}
require \Folk\Worker\Scripts::requested();
if (\Folk\Worker\Scripts::appended() !== null) {
    require \Folk\Worker\Scripts::appended();
}
