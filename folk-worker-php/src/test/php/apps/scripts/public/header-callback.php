<?php
// header_register_callback(), as MediaWiki uses it: run just before the headers go out, it sees every
// line the request set and adds its own (an answer that sets a cookie is made private).
header_register_callback(static function (): void {
    $lines = headers_list();
    header('X-Lines-Seen: ' . implode(' | ', $lines));
    if (preg_grep('/^Set-Cookie:/i', $lines)) {
        header('Cache-Control: private, max-age=0');
    }
});
if (isset($_GET['cookie'])) {
    setcookie('visited', 'yes');
}
if (isset($_GET['missing'])) {
    header('HTTP/1.1 404 Not Found');
}
if (isset($_GET['text'])) {
    header('Content-Type: text/plain');
}
if (isset($_GET['big'])) {
    echo str_repeat('x', 200000); // past every buffer: the headers go out with the first bytes
    flush();
}
echo 'a page';
