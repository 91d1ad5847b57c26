#!/usr/bin/env bash
# Makes a WordPress of its own from Debian's package (apt-get install wordpress), for comparisons with
# serve.sh:
#
#   wordpress.sh <dir>   <dir>/public: a copy of /usr/share/wordpress (without its translations) with a
#                        wp-config.php of its own; <dir>/worker.php: a Folk worker for it
#
# Debian's wp-config.php reads /etc/wordpress/config-<host>.php; this copy's reads PHP's environment
# instead: FOLK_WP_DB_SOCKET, the socket of a MariaDB server (mariadb.sh), and FOLK_WP_DB_NAME, the
# database, so that each copy made with cp -a can have a database of its own. The site's address is the
# Host the request names; the keys and salts are fixed (the same cookies and nonces in every copy for the
# same user and time); WordPress's cron does not run at the end of requests, and nothing is asked of the
# network. The site is not installed: its first visit to wp-admin/install.php does that. Uploads go to
# public/wp-content/uploads. Nothing is written outside <dir>.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: wordpress.sh <dir>" >&2; exit 2; }
src=/usr/share/wordpress
[[ -f $src/wp-settings.php ]] || { echo "wordpress.sh: $src/wp-settings.php not found (apt-get install wordpress)" >&2; exit 1; }
# Debian's package only recommends its default theme; without a theme WordPress answers every page empty.
[[ -f $src/wp-content/themes/twentytwentythree/style.css ]] || {
    echo "wordpress.sh: WordPress's default theme is not installed (apt-get install wordpress-theme-twentytwentythree)" >&2
    exit 1
}
[[ ! -e $1 ]] || { echo "wordpress.sh: $1 exists" >&2; exit 1; }
mkdir -p "$1"
dir="$(cd -- "$1" && pwd -P)"

mkdir "$dir/public"
for entry in "$src"/*; do
    case "${entry##*/}" in wp-config.php | wp-content) continue ;; esac
    cp -a "$entry" "$dir/public/"
done
mkdir -p "$dir/public/wp-content/uploads"
cp -a "$src/wp-content/themes" "$src/wp-content/plugins" "$dir/public/wp-content/"
# Debian's links into /usr/share/javascript and /usr/share/php are relative: made absolute, they lead
# where they led from /usr/share/wordpress (nginx and the gateway's public-dir follow them).
while IFS= read -r -d '' link; do
    target="$(readlink -f -- "$src/${link#"$dir/public/"}")" || continue
    ln -sfn -- "$target" "$link"
done < <(find "$dir/public" -type l -print0)

cat >"$dir/public/wp-config.php" <<'PHP'
<?php
// Written by wordpress.sh: this copy's configuration, not /etc/wordpress's.
define('DB_NAME', getenv('FOLK_WP_DB_NAME') ?: 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:' . getenv('FOLK_WP_DB_SOCKET'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $key) {
    define($key, 'folk-wordpress-' . $key);
}
define('WP_HOME', 'http://' . ($_SERVER['HTTP_HOST'] ?? 'localhost'));
define('WP_SITEURL', WP_HOME);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
$table_prefix = 'wp_';
if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
PHP

cp "$(dirname -- "${BASH_SOURCE[0]}")/scripts-worker.php" "$dir/worker.php"
echo "wordpress.sh: $dir"
