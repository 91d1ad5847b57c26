#!/usr/bin/env bash
# Makes a DokuWiki of its own from Debian's package (apt-get install dokuwiki), for comparisons
# and benchmarks with serve.sh:
#
#   dokuwiki.sh <dir>    <dir>/public: a copy of /usr/share/dokuwiki (its links to /var/lib/dokuwiki kept),
#                        <dir>/conf, <dir>/data: a small wiki, <dir>/worker.php: a Folk worker for it
#
# The copy's inc/preload.php points DokuWiki at <dir>/conf instead of /etc/dokuwiki, whose data
# directory ('savedir': <dir>/data, relative to public/) has two pages and an image. Users: admin,
# password "secret"; everyone reads, users upload. The secret salt is fixed (form tokens and image
# links are the same in every copy for the same session id), no update check is made, and the login
# cookie's name does not depend on the server's port. Copy the directory with cp -a: DokuWiki's style
# and script URLs hash its configuration's file times. Nothing is written outside <dir>.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: dokuwiki.sh <dir>" >&2; exit 2; }
src=/usr/share/dokuwiki
[[ -f $src/doku.php ]] || { echo "dokuwiki.sh: $src/doku.php not found (apt-get install dokuwiki)" >&2; exit 1; }
[[ ! -e $1 ]] || { echo "dokuwiki.sh: $1 exists" >&2; exit 1; }
mkdir -p "$1"
dir="$(cd -- "$1" && pwd -P)"

cp -a "$src" "$dir/public"
cat >"$dir/public/inc/preload.php" <<'PHP'
<?php
// Written by dokuwiki.sh: this copy's configuration, not /etc/dokuwiki.
if (!defined('DOKU_CONF')) define('DOKU_CONF', dirname(__DIR__, 2) . '/conf/');
PHP

mkdir -p "$dir/conf"
for f in /etc/dokuwiki/*; do
    name="${f##*/}"
    # Debian's own local settings, users and ACL stay; so do the web servers' files.
    case "$name" in local.* | *.dist | acl.auth.php | users.auth.php | apache.conf | lighttpd.conf | htaccess) continue ;; esac
    [[ -f $f && ! -L $f && -r $f ]] && cp -p "$f" "$dir/conf/"
done
cat >"$dir/conf/local.php" <<'PHP'
<?php
$conf['title'] = 'Folk DokuWiki';
$conf['savedir'] = '../data';   // relative to public/ (DOKU_INC)
$conf['useacl'] = 1;
$conf['superuser'] = '@admin';
$conf['updatecheck'] = 0;        // no request to dokuwiki.org
$conf['securecookie'] = 0;       // the login cookie's name without the server's port
PHP
printf '*\t@ALL\t1\n*\t@user\t16\n' >"$dir/conf/acl.auth.php"
echo 'admin:5ebe2294ecd0e0f08eab7690d2a6ee69:Admin:admin@example.org:admin,user' >"$dir/conf/users.auth.php"

data="$dir/data"
for sub in pages/playground attic meta media/wiki media_attic media_meta cache index locks tmp log; do
    mkdir -p "$data/$sub"
done
cat >"$data/pages/start.txt" <<'TXT'
====== Welcome ======
A **wiki** of the //Folk// tests: the [[playground:playground|playground]], a [[nowhere|missing page]].

{{wiki:diff.png?40|a picture}}

^ key ^ value ^
| one   | 1     |
TXT
echo '====== Playground ======' >"$data/pages/playground/playground.txt"
cp "$src/lib/images/diff.png" "$data/media/wiki/diff.png"
salt="$(printf 'f01d%.0s' $(seq 32))"
printf '%s' "$salt" >"$data/meta/_htcookiesalt"
printf '%s' "$salt" >"$data/meta/_htcookiesalt2"

cp "$(dirname -- "${BASH_SOURCE[0]}")/scripts-worker.php" "$dir/worker.php"
echo "dokuwiki.sh: $dir"
