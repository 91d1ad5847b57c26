package dev.folk.sample;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Random requests, as exact bytes ending the connection, for comparing the gateway with PHP-FPM
 * ({@link FrameworkAppsTest}): odd query strings, paths, header values, cookies and bodies, and
 * multipart uploads in the shapes PHP's RFC 1867 reader treats in its own ways (names with
 * brackets, dots and spaces, repeated names, Windows paths, quoted and unquoted parameters, LF
 * without CR, bodies cut short).
 *
 * <p>They keep to what both servers accept and where the gateway is documented to differ
 * nowhere: no raw space or byte over 0x7f in a request target (each server refuses it with its own
 * error page), no header name twice (Debian's nginx 1.22 passes PHP only the last line).
 */
final class RandomRequests {

    private static final String[] KEYS = {"a", "b", "a[]", "a[x]", "a.b", "a+b", "a%20b", "%C3%A9", "", "x[y][z]", "q[",
        "k]", "0", "c%5B%5D", "%2E", "d..e", "%E9", "z%00z", "__Host-c", "a[__Host-x]"};
    private static final String[] VALUES = {"", "1", "x+y", "%2B", "%26", "%3D", "%", "%zz", "%C3%A9", "a,b", "'q'",
        "\"d\"", "<t>", "a;b", "~!*()", "%00", "$"};
    private static final String[] PATHS = {"", "/x", "/a%20b", "/%C3%A9", "/a+b", "/a;p=1", "/.", "/x/..", "//y", "/%2F",
        "/~u", "/a:b@c", "/!$&'()*,=", "/%25"};
    private static final String[] HEADER_NAMES = {"X-A", "x-lower", "X-Multi-Word-Name", "Accept-Language", "User-Agent",
        "Referer", "X-Forwarded-Proto", "Origin", "If-None-Match", "X-Num1"};
    private static final String[] HEADER_VALUES = {"v", " lead", "trail ", "in  side", "a,b", "\"q\"", "\u00e9", "\u00ff",
        "x\ty", "", "a=b; c=d", "1"};
    private static final String[] COOKIES = {"a=1", "b=x y", "c=%20", "d.e=1", "f g=2", "h[]=3", "i[k]=4", "j=\"q\"", "k=",
        "l", "m=\u00e9", "a=2"};
    private static final String[] FIELD_NAMES = {"f", "f[]", "f[a]", "f[a][b]", "g", "a b", "a.b", "x[", "y]", "",
        "\u00e9", "f[][]", "h[0]", "h[]", "p", "n[ b]", "n[b]x", "g[]", "MAX_FILE_SIZE"};
    private static final String[] FILENAMES = {"x.txt", "", "dir/y.txt", "C:\\\\dos\\\\z.txt", "\u00e9.txt", "a b.bin",
        "q\\\"uote.txt", "%22.txt", "..", "../up.txt", "semi;colon.txt", "x.php", "t\ty.txt"};
    private static final String[] PART_TYPES = {"text/plain", "application/octet-stream", "image/png", "",
        "TEXT/HTML; charset=utf-8", null};
    private static final String[] CONTENTS = {"", "a", "line1\r\nline2", "--not-a-boundary\r\n", "\u0000\u00ff",
        "x".repeat(3000), "5000", "-1", "x".repeat(6000)};

    private RandomRequests() {
    }

    /** A request to {@code /request[/...]} of the Slim application: any method, query, headers, cookies, body. */
    static String echoRequest(Random r, String host) {
        String method = pick(r, "GET", "GET", "POST", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "PURGE");
        StringBuilder head = new StringBuilder(method).append(" /request").append(pick(r, PATHS));
        if (r.nextInt(3) != 0) {
            head.append('?').append(form(r));
        }
        head.append(" HTTP/1.1\r\nHost: ").append(r.nextInt(5) == 0 ? host + ":8080" : host).append("\r\n");
        Set<String> named = new HashSet<>();
        for (int i = r.nextInt(4); i > 0; i--) {
            String name = pick(r, HEADER_NAMES);
            if (named.add(name)) {
                head.append(name).append(": ").append(pick(r, HEADER_VALUES)).append("\r\n");
            }
        }
        if (r.nextInt(3) == 0) {
            StringBuilder cookie = new StringBuilder(pick(r, COOKIES));
            for (int i = r.nextInt(3); i > 0; i--) {
                cookie.append("; ").append(pick(r, COOKIES));
            }
            head.append("Cookie: ").append(cookie).append("\r\n");
        }
        byte[] body = new byte[0];
        if (!method.equals("GET") && !method.equals("HEAD") && !method.equals("DELETE") || r.nextInt(10) == 0) {
            String type;
            String text;
            switch (r.nextInt(5)) {
                case 0 -> { type = "application/x-www-form-urlencoded"; text = form(r); }
                case 1 -> { type = "application/x-www-form-urlencoded; charset=UTF-8"; text = form(r); }
                case 2 -> { type = "application/json"; text = "{\"k\":" + r.nextInt(100) + ",\"s\":\"\u00e9\"}"; }
                case 3 -> { type = "text/plain"; text = "raw " + form(r); }
                default -> {
                    String boundary = "b" + r.nextInt(1000);
                    type = "multipart/form-data; boundary=" + boundary;
                    StringBuilder parts = new StringBuilder();
                    for (int i = r.nextInt(4); i > 0; i--) {
                        parts.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"")
                                .append(pick(r, FIELD_NAMES)).append("\"\r\n\r\n").append(pick(r, VALUES)).append("\r\n");
                    }
                    text = parts.append("--").append(boundary).append("--\r\n").toString();
                }
            }
            if (r.nextInt(6) != 0) {
                head.append("Content-Type: ").append(type).append("\r\n");
            }
            body = text.getBytes(StandardCharsets.UTF_8);
            if (r.nextInt(4) == 0) {
                head.append("Transfer-Encoding: chunked\r\n");
                String chunk = latin1(body);
                body = latin1Bytes(body.length == 0 ? "0\r\n\r\n"
                        : Integer.toHexString(body.length) + "\r\n" + chunk + "\r\n0\r\n\r\n");
            } else {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
        }
        return head.append("Connection: close\r\n\r\n") + latin1(body);
    }

    /** A multipart/form-data POST to {@code path}, fields and files mixed. */
    static String upload(Random r, String host, String path) {
        String boundary = r.nextInt(5) == 0 ? "----WebKitFormBoundary" + r.nextInt(99999) : "b" + r.nextInt(1000);
        StringBuilder m = new StringBuilder();
        if (r.nextInt(8) == 0) {
            m.append("preamble\r\n");
        }
        for (int i = r.nextInt(5); i > 0; i--) {
            m.append("--").append(boundary).append("\r\n");
            String header = r.nextInt(8) == 0 ? "content-disposition" : "Content-Disposition";
            String name = pick(r, FIELD_NAMES);
            m.append(header).append(switch (r.nextInt(12)) {
                case 0 -> ": form-data; name='" + name + "'";
                case 1 -> ":form-data;name=" + (name.isEmpty() || name.contains(" ") ? "z" : name);
                case 2 -> ": form-data; NAME=\"" + name + "\"; name=\"g\"";
                case 3 -> ": attachment; name = \"" + name + "\"";
                case 4 -> ": form-data;\r\n name=\"" + name + "\"";
                case 5 -> ": form-data; filename*=UTF-8''x.txt; name=\"" + name + "\"";
                default -> ": form-data; name=\"" + name + "\"";
            });
            boolean file = r.nextInt(3) != 0;
            if (file) {
                m.append("; filename=\"").append(pick(r, FILENAMES)).append('"');
            }
            m.append("\r\n");
            String type = pick(r, PART_TYPES);
            if (file && type != null) {
                m.append("Content-Type: ").append(type).append("\r\n");
            }
            m.append("\r\n").append(pick(r, CONTENTS)).append("\r\n");
        }
        m.append("--").append(boundary).append("--\r\n");
        if (r.nextInt(8) == 0) {
            m.append("epilogue");
        }
        String text = r.nextInt(10) == 0 ? m.toString().replace("\r\n", "\n") : m.toString();
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        if (r.nextInt(8) == 0) {
            body = Arrays.copyOf(body, r.nextInt(body.length + 1)); // cut short
        }
        String contentType = r.nextInt(6) == 0 ? "multipart/form-data; boundary=\"" + boundary + "\""
                : "multipart/form-data; boundary=" + boundary;
        return "POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: " + contentType + "\r\nContent-Length: "
                + body.length + "\r\nConnection: close\r\n\r\n" + latin1(body);
    }

    private static final String[] RESPONSE_HEADERS = {"X-A: 1", "X-A: 2", "x-a: 3", "Set-Cookie: a=1",
        "Set-Cookie: b=2; Path=/; HttpOnly", "Content-Type: text/plain", "Content-Type: application/json; charset=utf-8",
        "Content-type: TEXT/HTML", "Location: /elsewhere", "Location: http://x.test/y", "Location: relative/path",
        "Cache-Control: no-cache", "X-Empty:", "X-Spaces:   padded   ", "Vary: Accept", "Content-Language: en",
        "Status: 404 Not Found", "Status: 299", "HTTP/1.0 403 Forbidden", "HTTP/1.1 201", "X-Utf8: \u00e9", "ETag: \"x\"",
        "Content-Disposition: attachment; filename=\"a b.txt\"", "Retry-After: 5", "WWW-Authenticate: Basic realm=\"x\"",
        "Allow: GET", "Link: </a>; rel=preload", "Expires: 0", "Content-Length: 3", "Content-Length: 99",
        "Connection: close", "Transfer-Encoding: chunked", "Keep-Alive: timeout=1", "X-Accel-Buffering: no",
        "Content-Encoding: identity", "Date: Mon, 01 Jan 2001 00:00:00 GMT", "Server: php", "Last-Modified: Mon, 01 Jan 2001 00:00:00 GMT",
        "Accept-Ranges: bytes", "Content-Range: bytes 0-1/2", "Refresh: 0; url=/x", "X-Frame-Options: DENY"};
    /** Conditional and range headers, some naming the ETag and Last-Modified of RESPONSE_HEADERS. */
    private static final String[] CONDITIONS = {"If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT",
        "If-Modified-Since: Tue, 02 Jan 2001 00:00:00 GMT", "If-None-Match: \"x\"", "If-None-Match: W/\"x\"",
        "If-None-Match: *", "If-None-Match: \"y\"", "If-Match: \"y\"", "If-Match: \"x\"",
        "If-Unmodified-Since: Sun, 31 Dec 2000 00:00:00 GMT", "If-Unmodified-Since: Mon, 01 Jan 2001 00:00:00 GMT",
        "Range: bytes=0-1", "Range: bytes=0-0,2-3", "If-Range: \"x\""};
    private static final int[] STATUSES = {0, 200, 201, 204, 206, 301, 302, 303, 304, 307, 400, 401, 404, 405, 410, 418,
        500, 502, 503, 599};
    private static final String[] RESPONSE_BODIES = {"", "hello\n", "x".repeat(5000), "{\"a\":1}"};

    /**
     * A GET or HEAD of {@code /respond} that asks PHP for an answer of random status, header lines
     * and body, made with header() and exit or as the framework's response object.
     */
    static String response(Random r, String host) {
        int status = STATUSES[r.nextInt(STATUSES.length)];
        boolean framework = r.nextInt(3) != 0; // one in three made with exit(), which replaces the worker
        StringBuilder spec = new StringBuilder(framework ? "{\"framework\":true,\"headers\":[" : "{\"headers\":[");
        Set<String> framing = new HashSet<>();
        for (int i = r.nextInt(6); i > 0; i--) {
            String line = pick(r, RESPONSE_HEADERS);
            if (framework && line.startsWith("HTTP/")) {
                continue; // no header name: not a response object's
            }
            if (status == 304 && (line.startsWith("Status:") || line.startsWith("HTTP/"))) {
                continue; // PHP's own 304 made another status by such a line: a known difference (README)
            }
            // One Content-Type and one Content-Length at most: with two, nginx 1.22 mixes the charset of
            // the first into the second, and two lengths are an error (a 502 here, as in nginx 1.23+).
            String name = line.substring(0, line.indexOf(':') + 1).toLowerCase(java.util.Locale.ROOT);
            if ((name.equals("content-type:") || name.equals("content-length:")) && !framing.add(name)) {
                continue;
            }
            spec.append(spec.charAt(spec.length() - 1) == '[' ? "" : ",").append(json(line));
        }
        spec.append("],\"body\":").append(json(pick(r, RESPONSE_BODIES)));
        if (status != 0) {
            spec.append(",\"status\":").append(status);
        }
        String encoded = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString(spec.append('}').toString().getBytes(StandardCharsets.UTF_8));
        StringBuilder conditions = new StringBuilder();
        Set<String> conditionNames = new HashSet<>(); // nginx refuses such a header twice (400)
        for (int i = r.nextInt(3); i > 0; i--) {
            String condition = pick(r, CONDITIONS);
            if (conditionNames.add(condition.substring(0, condition.indexOf(':')))) {
                conditions.append(condition).append("\r\n");
            }
        }
        return (r.nextInt(5) == 0 ? "HEAD" : "GET") + " /respond?spec=" + encoded + " HTTP/1.1\r\nHost: " + host
                + "\r\n" + conditions + "Connection: close\r\n\r\n";
    }

    /** The files every test application keeps beside its front controller. */
    static final List<String> PUBLIC_FILES = List.of("/robots.txt", "/css/app.css");
    private static final String[] RANGES = {"bytes=0-9", "bytes=-5", "bytes=5-", "bytes=0-0", "bytes=10-1000",
        "bytes=1000-", "bytes=-0", "bytes=-1000", "bytes=5-2", "bytes=0-1,3-4", "bytes=0-4,2-8", "bytes=-3,0-1",
        "bytes= 0-9", "bytes=0-9 ", "BYTES=0-9", "bytes=x-y", "bytes=-", "bytes=0-99999999999999999999", "items=0-1",
        "bytes=0-1, 5-6", "", "bytes=0-1 ,3-4", "bytes=0-1,", "bytes=,0-1", "bytes=1-1,1-1", "bytes=0-40,0-40",
        "bytes=0-0,-1", "bytes=2-1,0-0", "bytes=99-,0-1", "bytes=0 - 1", "bytes=0-1,x", "bytes=00-01", "bytes=-1-2",
        "bytes=0-5,6-10,11-15,16-20"};

    /**
     * A request for one of the files beside the front controller (their validators: ETag and
     * Last-Modified as nginx sends them, by path), its path in one of the spellings nginx maps to
     * the file or not, with conditional and range headers of every kind and any method.
     */
    static String publicFile(Random r, String host, java.util.Map<String, String[]> validators) {
        String file = PUBLIC_FILES.get(r.nextInt(PUBLIC_FILES.size()));
        String[] valid = validators.get(file);
        String path = switch (r.nextInt(20)) {
            case 0 -> "/" + file;                          // //robots.txt
            case 1 -> file.replace("/", "/./");
            case 2 -> "/css/.." + file;
            case 3 -> file.replace("o", "%6F").replace("s", "%73");
            case 4 -> file + "/";
            case 5 -> file.toUpperCase(java.util.Locale.ROOT);
            case 6 -> file.replace("/css/", "/css%2F");
            case 7 -> file + "?v=" + r.nextInt(100);
            case 8 -> file.substring(0, file.lastIndexOf('/') + 1);  // its directory
            case 9 -> "/css/%2E%2E" + file;
            case 10 -> "/css/%2e" + file;
            case 11 -> file + "/.";
            case 12 -> file + "/..";
            case 13 -> "/x/y/../.." + file;
            case 14 -> file + ";p=1";
            default -> file;
        };
        String method = pick(r, "GET", "GET", "GET", "GET", "HEAD", "HEAD", "POST", "PUT", "DELETE", "OPTIONS");
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ")
                .append(host).append("\r\n");
        java.time.ZonedDateTime modified = java.time.ZonedDateTime.parse(valid[1], java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
        String rfc850 = modified.format(java.time.format.DateTimeFormatter.ofPattern("EEEE, dd-MMM-yy HH:mm:ss 'GMT'", java.util.Locale.US));
        String asctime = modified.format(java.time.format.DateTimeFormatter.ofPattern("EEE MMM d HH:mm:ss yyyy", java.util.Locale.US));
        String oneSecondLater = modified.plusSeconds(1).format(java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
        String otherDate = "Thu, 01 Jan 2015 00:00:00 GMT";
        String laterDate = "Fri, 01 Jan 2100 00:00:00 GMT";
        if (r.nextInt(2) == 0) {
            head.append("Range: ").append(pick(r, RANGES)).append("\r\n");
            if (r.nextInt(3) == 0) {
                head.append("If-Range: ").append(pick(r, valid[0], valid[1], "\"other\"", otherDate, "W/" + valid[0],
                        rfc850, asctime, oneSecondLater, "junk"))
                        .append("\r\n");
            }
        }
        if (r.nextInt(3) == 0) {
            head.append("If-None-Match: ").append(pick(r, valid[0], "W/" + valid[0], "*", "\"other\"",
                    "\"other\", " + valid[0], valid[0].replace("\"", ""), valid[0] + " ,\"x\"", valid[0] + "x",
                    "\"x\",W/" + valid[0], "*, \"x\"")).append("\r\n");
        }
        if (r.nextInt(3) == 0) {
            head.append("If-Modified-Since: ").append(pick(r, valid[1], otherDate, laterDate, "yesterday",
                    valid[1].replace("GMT", "UTC"), rfc850, asctime, oneSecondLater)).append("\r\n");
        }
        if (r.nextInt(5) == 0) {
            head.append("If-Match: ").append(pick(r, valid[0], "*", "\"other\"", "W/" + valid[0],
                    "\"other\", " + valid[0])).append("\r\n");
        }
        if (r.nextInt(5) == 0) {
            head.append("If-Unmodified-Since: ").append(pick(r, valid[1], otherDate, laterDate, "never", rfc850,
                    oneSecondLater)).append("\r\n");
        }
        boolean body = (method.equals("POST") || method.equals("PUT")) && r.nextBoolean();
        if (body) {
            head.append("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n");
        }
        return head.append("Connection: close\r\n\r\n").append(body ? "a=1" : "").toString();
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    /**
     * Not among them, a known difference (folk-worker-php's README): session settings a request
     * changes (session_name(), session_set_cookie_params(), session_cache_limiter()) stay for the
     * next requests.
     */
    private static final String[] SESSION_OPS = {"start", "start", "start", "start-if-no-id", "start-if-no-id", "id",
        "set:a=1", "set:b=2", "set:a=3", "unset:a", "regenerate", "regenerate-keep", "destroy", "close", "abort",
        "reset", "unset-all"};

    /** One to five native session operations, for the Slim application's /session-ops. */
    static String sessionOps(Random r) {
        return ops(r, SESSION_OPS);
    }

    /**
     * Those, and the session settings a request changes: in the scripts application each request's
     * process forgets them (folk-worker-php's {@code Folk\Worker\Scripts}), as PHP-FPM's request does.
     */
    private static final String[] SCRIPT_SESSION_OPS = java.util.stream.Stream.concat(java.util.Arrays.stream(SESSION_OPS),
            java.util.stream.Stream.of("name:FOLKSESSID", "path:/session-ops", "cache:private", "cache:public")).toArray(String[]::new);

    /** One to five of {@link #SCRIPT_SESSION_OPS}, for the scripts application's /session-ops. */
    static String scriptSessionOps(Random r) {
        return ops(r, SCRIPT_SESSION_OPS);
    }

    private static final String[] SYMFONY_SESSION_OPS = {"set:a=1", "set:b=2", "set:a=3", "remove:a", "clear", "invalidate",
        "migrate", "migrate-destroy", "flash:x", "flash:y", "flashes", "save", "start", "id", "id"};

    /** One to five operations on HttpFoundation's session, for the Symfony applications' /session-ops. */
    static String symfonySessionOps(Random r) {
        return ops(r, SYMFONY_SESSION_OPS);
    }

    private static final String[] LARAVEL_SESSION_OPS = {"put:a=1", "put:b=2", "put:a=3", "forget:a", "flush", "regenerate",
        "regenerate-destroy", "invalidate", "flash:x", "now:y", "reflash", "pull:b", "id", "id"};

    /** One to five operations on Laravel's session, for the Laravel application's /session-ops. */
    static String laravelSessionOps(Random r) {
        return ops(r, LARAVEL_SESSION_OPS);
    }

    private static String ops(Random r, String[] choices) {
        StringBuilder ops = new StringBuilder();
        for (int i = 1 + r.nextInt(5); i > 0; i--) {
            ops.append(ops.isEmpty() ? "" : ",").append(pick(r, choices));
        }
        return ops.toString();
    }

    /** A query string or urlencoded body: up to four pieces, `&` or `;` between them. */
    private static String form(Random r) {
        StringBuilder b = new StringBuilder();
        for (int i = r.nextInt(5); i > 0; i--) {
            if (!b.isEmpty()) {
                b.append(r.nextInt(8) == 0 ? ";" : "&");
            }
            b.append(pick(r, KEYS));
            if (r.nextInt(6) != 0) {
                b.append('=').append(pick(r, VALUES));
            }
        }
        return b.toString();
    }

    private static String pick(Random r, String... choices) {
        return choices[r.nextInt(choices.length)];
    }

    private static String latin1(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private static byte[] latin1Bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
