<?php
// Legacy code that takes autoloading over: ?drop drops every autoloader registered before it,
// ?refuse puts first one that throws for a class it does not know. Then a session, a header, a
// cookie and the page, then (?big) past the size an answer is sent on in parts, (?flush) flushed,
// (?finish) answered with fastcgi_finish_request(), (?exit) ended with exit(), (?fatal) a fatal error.
if (isset($_GET['drop'])) {
    foreach (spl_autoload_functions() as $loader) {
        spl_autoload_unregister($loader);
    }
}
if (isset($_GET['refuse'])) {
    spl_autoload_register(static function (string $class): void {
        throw new RuntimeException("no class $class in this application");
    }, true, true);
}
session_start();
$_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
header('X-Legacy: 1');
setcookie('seen', 'yes');
echo 'n=', $_SESSION['n'], "\n";
if (isset($_GET['big'])) {
    echo str_repeat("x", 2 * 1024 * 1024), "\n";
}
if (isset($_GET['flush'])) {
    flush();
    echo "after the flush\n";
}
if (isset($_GET['finish'])) {
    fastcgi_finish_request();
    echo "nobody sees this\n";
}
if (isset($_GET['exit'])) {
    exit("bye\n");
}
if (isset($_GET['fatal'])) {
    no_such_function();
}
