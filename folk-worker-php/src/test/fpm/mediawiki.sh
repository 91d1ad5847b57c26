#!/usr/bin/env bash
# Makes a MediaWiki of its own from Debian's package (apt-get install mediawiki), for comparisons with
# serve.sh:
#
#   mediawiki.sh <dir>   <dir>/public: a copy of /var/lib/mediawiki (Debian's document root, whose
#                        scripts and directories are links into /usr/share/mediawiki) with a
#                        LocalSettings.php of its own; <dir>/data: its SQLite databases, installed
#                        with a main page and the user Admin (password "Folk-secret-1"); <dir>/worker.php
#
# MediaWiki reads the configuration of the installation MW_INSTALL_PATH names, else Debian's in
# /etc/mediawiki: both servers need MW_INSTALL_PATH=<dir>/public in PHP's environment. Paths in the
# configuration are relative to it, so a copy made with cp -a is a wiki of its own. Its address is
# http://localhost; no job runs at the end of a request, and the images are files of public/images.
# Nothing is written outside <dir>.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: mediawiki.sh <dir>" >&2; exit 2; }
src=/var/lib/mediawiki
[[ -f /usr/share/mediawiki/index.php && -d $src ]] || { echo "mediawiki.sh: /usr/share/mediawiki not found (apt-get install mediawiki)" >&2; exit 1; }
[[ ! -e $1 ]] || { echo "mediawiki.sh: $1 exists" >&2; exit 1; }
mkdir -p "$1/public" "$1/data"
dir="$(cd -- "$1" && pwd -P)"

# Debian's document root but its configuration (a link to /etc/mediawiki) and its www-data directories.
for entry in "$src"/* "$src"/.[!.]*; do
    [[ -e $entry || -L $entry ]] || continue
    case "${entry##*/}" in LocalSettings.php | images | cache) continue ;; esac
    cp -a "$entry" "$dir/public/"
done
mkdir -p "$dir/public/images" "$dir/cache" "$dir/tmp"

MW_INSTALL_PATH="$dir/public" php /usr/share/mediawiki/maintenance/install.php --dbtype=sqlite \
    --dbpath="$dir/data" --dbname=wiki --server=http://localhost --scriptpath="" --confpath="$dir" \
    --pass=Folk-secret-1 --lang=en "Folk Wiki" Admin >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log" >&2; exit 1; }
settings="$dir/public/LocalSettings.php"
sed -e "s|^\$wgSQLiteDataDir = .*|\$wgSQLiteDataDir = dirname(__DIR__) . '/data';|" \
    -e 's|^\$wgEnableUploads = false;|$wgEnableUploads = true;|' \
    -e 's|^\$wgUseImageMagick = true;|$wgUseImageMagick = false;|' "$dir/LocalSettings.php" >"$settings"
rm "$dir/LocalSettings.php"
grep -q "^\$wgSQLiteDataDir = dirname(__DIR__)" "$settings" || { echo "mediawiki.sh: no \$wgSQLiteDataDir in $settings" >&2; exit 1; }
cat >>"$settings" <<'PHP'

# Written by mediawiki.sh.
$wgUploadDirectory = __DIR__ . '/images';
$wgUploadPath = "$wgScriptPath/images";
$wgCacheDirectory = dirname(__DIR__) . '/cache';
$wgTmpDirectory = dirname(__DIR__) . '/tmp';   # its id generator's state files, not /tmp's
$wgJobRunRate = 0;              # no job at the end of a request: the same work on every server
$wgUsePathInfo = true;          # /index.php/Title (MediaWiki's default depends on PHP_SAPI)
$wgDisableOutputCompression = true;  # its gzip buffer depends on ob_get_level() (folk-worker-php's README)
$wgPingback = false;
PHP

cp "$(dirname -- "${BASH_SOURCE[0]}")/scripts-worker.php" "$dir/worker.php"
echo "mediawiki.sh: $dir"
