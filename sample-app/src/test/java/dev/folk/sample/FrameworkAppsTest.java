package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

import dev.folk.core.pool.ExitReason;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.spring.boot.pool.FolkPools;

/**
 * Real framework applications served two ways, compared request by request: through the Spring
 * gateway (a Spring Boot context with the starter and {@code folk.http} routing {@code /**} to a
 * pool running the application's worker) and through nginx + PHP-FPM running the same code
 * classically ({@code folk-worker-php/src/test/fpm/serve.sh}). PHP-FPM is the reference: status
 * and body must be identical, and headers equal but for those in {@link #SERVER_HEADERS}; session
 * ids and cookie dates are masked on both sides ({@link #mask(String)}), being random or
 * time-dependent by design.
 *
 * <p>The applications are folk-worker-php's test applications ({@code src/test/php/apps}, see
 * their README): Slim 3 through the PSR-15 adapter, Symfony components and a FrameworkBundle
 * application through the Symfony Runtime, Laravel 8 through the Kernel adapter, and an application of scripts
 * ({@code Folk\Worker\Scripts}, against nginx's setup for such applications); and DokuWiki and MediaWiki, as
 * Debian packages them, through {@code Scripts}. Each gets one context and one PHP-FPM, shared by
 * its requests. Where the two servers legitimately differ as servers (their own refusal of a bad
 * request, reason phrases, nginx 1.22 dropping all but the last of a repeated request header) the
 * test says so where it sends the request. Without the Debian packages they need the tests are skipped, except with
 * {@code CI=true} ({@code .ci/run} installs them), where they fail.
 */
class FrameworkAppsTest {

    /** Headers that legitimately differ between two servers, or that each server manages itself. */
    static final List<String> SERVER_HEADERS = List.of("date", "server", "x-powered-by", "content-length",
            "transfer-encoding", "connection", "keep-alive");

    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final Path APPS = REPO.resolve("folk-worker-php/src/test/php/apps");
    static final Path FPM = REPO.resolve("folk-worker-php/src/test/fpm");
    static final Path LIBRARY = REPO.resolve("folk-worker-php/src/main/php/autoload.php");
    static final String HOST = "app.test";
    /** The sample app's server.tomcat.relaxed-*-chars (what nginx accepts unencoded in a query, and in a path). */
    static final String RELAXED_QUERY_CHARS = "[,],{,},|,^,`,\\,\",<,>";
    static final String RELAXED_PATH_CHARS = "[,],{,},|,^,`,\",<,>";

    private static final Pattern SESSION_ID = Pattern.compile("\\b(PHPSESSID|FOLKSESSID|laravel_session)=[^;\\s\"]+");
    private static final Pattern HTTP_DATE = Pattern.compile("\\b\\w{3}, \\d{2}[ -]\\w{3}[ -]\\d{4} \\d{2}:\\d{2}:\\d{2} GMT\\b");
    private static final Pattern MAX_AGE = Pattern.compile("(?i)Max-Age=\\d+");
    /** A cookie value Laravel's EncryptCookies encrypted (base64 of {"iv":...}: a random IV each time). */
    private static final Pattern ENCRYPTED_COOKIE = Pattern.compile("=eyJpdiI6[A-Za-z0-9+/=%]+");
    /** What nginx writes in the error pages it makes itself. */
    static final String NGINX_ERROR_PAGE = "<hr><center>nginx</center>";
    /** A multipart/byteranges boundary: nginx's counts, the gateway's is random, both 20 digits. */
    private static final Pattern BYTERANGES_BOUNDARY = Pattern.compile("(boundary=|--)\\d{20}\\b");
    /** The id VarDumper's HtmlDumper draws (mt_rand()) for the elements of each page's dumps. */
    private static final Pattern DUMP_ID = Pattern.compile("\\bsf-dump-\\d+");

    static String base64(String s) {
        return java.util.Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** What is random or time-dependent by design: session ids, encrypted cookies, dates, dump ids. */
    static String mask(String value) {
        String v = SESSION_ID.matcher(value).replaceAll("$1=<session-id>");
        v = ENCRYPTED_COOKIE.matcher(v).replaceAll("=<encrypted>");
        v = HTTP_DATE.matcher(v).replaceAll("<date>");
        v = DUMP_ID.matcher(v).replaceAll("sf-dump-<id>");
        v = BYTERANGES_BOUNDARY.matcher(v).replaceAll("$1<boundary>");
        return MAX_AGE.matcher(v).replaceAll("Max-Age=<n>");
    }

    @Nested
    class Slim extends Served {
        Slim() {
            super("slim", "slim/worker.php", Map.of(), Map.of(
                    "php-slim", "/usr/share/php/Slim/App.php",
                    "php-nyholm-psr7", "/usr/share/php/Nyholm/Psr7/Factory/Psr17Factory.php"));
        }

        /**
         * A header sent twice, Cookie too. nginx 1.22 (Debian 12's) passes PHP-FPM only the last line of
         * a repeated header; nginx 1.23 and later join the lines with ", " ("; " for Cookie), as RFC 9110
         * 5.3 lets a recipient do, and so does the gateway (see folk-worker-php's README, "Known
         * differences"). The answers are compared only where the reference nginx joins them too.
         */
        @Test
        void repeatedRequestHeadersAreJoinedAsNginxDoes() throws Exception {
            String request = "GET /request HTTP/1.1\r\nHost: app.test\r\nX-Foo: one\r\nCookie: a=1\r\nX-Foo: two\r\n"
                    + "Cookie: b=2\r\nConnection: close\r\n\r\n";
            RawHttp.Response ours = RawHttp.exchange(gatewayPort(), ascii(request));
            assertThat(ours.text()).contains("\"HTTP_X_FOO\":\"one, two\"").contains("\"HTTP_COOKIE\":\"a=1; b=2\"")
                    .contains("\"cookie\":{\"a\":\"1\",\"b\":\"2\"}");
            RawHttp.Response fpm = RawHttp.exchange(fpmPort(), ascii(request));
            if (fpm.text().contains("\"HTTP_X_FOO\":\"one, two\"")) {
                sameRaw(request);
            } else {
                assertThat(fpm.text()).as("nginx before 1.23: the last line").contains("\"HTTP_X_FOO\":\"two\"");
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * Random requests to /request (seeded: the same on every run), each compared with PHP-FPM's
         * answer: PHP's view of query strings, paths, header values, cookies and bodies of every
         * kind. {@code -Dfolk.compare.seed=N -Dfolk.compare.count=N} run others, or more.
         */
        @Test
        void randomRequestsAnswerLikePhpFpm() throws Exception {
            sameForRandom(150, random -> RandomRequests.echoRequest(random, HOST));
        }

        /**
         * Random pipelines (seeded, as above): two to five requests for PHP (as in
         * {@link #randomRequestsAnswerLikePhpFpm()}) or for public files, sent in one write on one
         * connection, each answer compared with nginx's. Tomcat ends the connection after an answer
         * of some error statuses (400, 408, 411, 413, 414, 500, 501, 503), where nginx goes on, and
         * nginx after a file's 412 or 416 or PHP's answer to an HTTP/1.0 request (some requests are
         * HTTP/1.0, asking to be kept alive), where the gateway goes on: the requests after such an
         * answer are not compared (the auto-configuration's README, "Keep-alive after an error").
         */
        @Test
        void randomPipelinesAnswerLikeNginx() throws Exception {
            Map<String, String[]> validators = publicFileValidators();
            Random random = new Random(Long.getLong("folk.compare.seed", 1));
            for (int pipeline = Integer.getInteger("folk.compare.count", 150) / 3; pipeline > 0; pipeline--) {
                StringBuilder all = new StringBuilder();
                List<Boolean> heads = new ArrayList<>();
                List<String> lines = new ArrayList<>();
                for (int i = 1 + random.nextInt(4); i >= 0; i--) {
                    String request = random.nextBoolean() ? RandomRequests.echoRequest(random, HOST)
                            : RandomRequests.publicFile(random, HOST, validators);
                    if (random.nextInt(5) == 0 && !request.contains("Transfer-Encoding")) { // HTTP/1.0, kept alive if asked
                        request = request.replaceFirst(" HTTP/1.1\r\n", " HTTP/1.0\r\n");
                        request = i == 0 ? request : request.replace("Connection: close\r\n", "Connection: keep-alive\r\n");
                    }
                    all.append(i == 0 ? request : request.replace("Connection: close\r\n", ""));
                    heads.add(request.startsWith("HEAD "));
                    lines.add(request.substring(0, request.indexOf('\r')));
                }
                List<RawHttp.Response> fpm = RawHttp.pipeline(fpmPort(), ascii(all.toString()), heads);
                List<RawHttp.Response> ours = RawHttp.pipeline(gatewayPort(), ascii(all.toString()), heads);
                for (int i = 0; i < Math.min(fpm.size(), ours.size()); i++) {
                    compare(lines.get(i) + " (pipeline " + pipeline + ", request " + i + ")", fpm.get(i), ours.get(i));
                }
                boolean tomcatClosed = ours.size() < fpm.size() && !ours.isEmpty()
                        && List.of(400, 408, 411, 413, 414, 500, 501, 503).contains(ours.get(ours.size() - 1).status());
                // nginx ends the connection after the 412 and 416 its filters make of a file's answer
                // (the file's response is already under way), and after PHP's answer to an HTTP/1.0
                // request (no length: it cannot be chunked); the gateway keeps it open.
                boolean nginxClosed = fpm.size() < ours.size() && !fpm.isEmpty()
                        && (List.of(412, 416).contains(fpm.get(fpm.size() - 1).status())
                        || lines.get(fpm.size() - 1).endsWith(" HTTP/1.0"));
                if (ours.size() != fpm.size() && !tomcatClosed && !nginxClosed) {
                    differences.add("pipeline " + pipeline + " " + lines + ": nginx answered " + fpm.size()
                            + " requests, the gateway " + ours.size() + "\n  (the requests: "
                            + all.toString().replace("\r", "\\r").replace("\n", "\\n") + ")");
                }
            }
            assertThat(differences).as("every answer equal to nginx's").isEmpty();
        }

        /**
         * Native session operations (start, write, regenerate, destroy, close, abort, reset,
         * session_id() and legacy code's start when it is "", a second start).
         */
        @Override
        String sessionOps(Random random) {
            return RandomRequests.sessionOps(random);
        }

        /** Slim's /upload, and /files: $_FILES and $_POST as PHP's own RFC 1867 reader makes them. */
        @Override
        List<String> uploadPaths() {
            return List.of("/upload", "/files");
        }

        /**
         * Random answers PHP makes with header(), http_response_code() and echo, or as Slim's response
         * (/respond: status, header lines, body; seeded, as above), each compared with what nginx makes
         * of PHP-FPM's. Fewer than the others by default: an answer made with exit() costs a worker.
         */
        @Test
        void randomAnswersOfPhpGoOutLikeNginxSendsThem() throws Exception {
            sameForRandom(60, random -> RandomRequests.response(random, HOST));
        }

        /** What PHP sees of the request ($_SERVER, $_GET, $_POST, $_COOKIE, the PSR-7 request): /request echoes it. */
        @Test
        void phpSeesRequestsAsUnderPhpFpm() throws Exception {
            same("GET", "/request?a&b=&=c&p=1+2%20%2B&e=%C3%A9");
            same("GET", "/request/x;y=1/../z?q");
            same("POST", "/request", List.of(), new byte[0]);
            same("POST", "/request", List.of("Content-Type", "application/x-www-form-urlencoded"), new byte[0]);
            same("PUT", "/request", List.of("Content-Type", "application/json"), ascii("{\"a\":1}"));
            // Forms in other methods: PHP parses none of them into $_POST, the framework parses the body.
            for (String method : List.of("PUT", "PATCH", "DELETE")) {
                same(method, "/request", List.of("Content-Type", "application/x-www-form-urlencoded"), ascii("a=1&b[]=2"));
            }
            same("DELETE", "/request?x=1");
            same("OPTIONS", "/request");
            same("PURGE", "/request"); // a method no route allows: Slim's 405
            same("GET", "/request", "X-Empty", "", "Accept", "*/*");
            // HTTP authentication as a web SAPI reads it: Basic as PHP_AUTH_USER and PHP_AUTH_PW, Digest as
            // PHP_AUTH_DIGEST, nothing for other schemes or Basic without a colon.
            same("GET", "/request", "Authorization", "Basic " + base64("alice:s3cret:with colon"));
            same("GET", "/request", "Authorization", "basic " + base64("bob:"));
            same("GET", "/request", "Authorization", "Basic " + base64("no colon"));
            same("GET", "/request", "Authorization", "Digest username=\"carol\", realm=\"r\", nonce=\"n\"");
            same("GET", "/request", "Authorization", "Bearer abc.def");
            // Names nginx ignores (ignore_invalid_headers, no underscores_in_headers: its defaults): with "_",
            // X_Forwarded_For would reach PHP as HTTP_X_FORWARDED_FOR, as if it were X-Forwarded-For.
            same("GET", "/request", "X_Forwarded_For", "6.6.6.6", "X-Forwarded-For", "10.0.0.1", "X.Dot", "d", "X-Ok", "ok");
            // Not compared: a name that is no token at all ("X-\u00e9t\u00e9", a byte over 0x7f) makes nginx ignore
            // the header and Tomcat refuse the request (400), before PHP either way.
            sameRaw("POST /request HTTP/1.1\r\nHost: app.test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\na=1&b\r\n3\r\n=%3\r\n1\r\n2\r\n0\r\n\r\n");
            sameRaw("POST /request HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    + "0\r\n\r\n");
            sameRaw("GET http://app.test/request?x=1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
            sameRaw("GET /request?x=1 HTTP/1.0\r\nHost: app.test\r\n\r\n");
            sameRaw("GET /request?x=1 HTTP/1.0\r\n\r\n");
            sameRaw("POST /request HTTP/1.0\r\nHost: app.test\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    + "Content-Length: 3\r\n\r\na=b");
            // What nginx takes by default: lines of up to 8KB, 32KB in all (large cookies beside other
            // headers: Tomcat's default refuses over 8KB in all), and any number of lines (Tomcat's, over 100).
            String lines = IntStream.range(0, 200).mapToObj(i -> "X-H" + i + ": v\r\n").collect(Collectors.joining());
            sameRaw("GET /request HTTP/1.1\r\nHost: app.test\r\nCookie: c=" + "v".repeat(6000) + "\r\n" + lines
                    + "X-Last: " + "l".repeat(7000) + "\r\nConnection: close\r\n\r\n");
            rejectedByBoth("GET /request HTTP/1.1\r\nHost: app.test\r\n" + ("X-Big: " + "b".repeat(7000) + "\r\n").repeat(5)
                    + "Connection: close\r\n\r\n", 400);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }
    }

    @Nested
    class Symfony extends SymfonyApp {
        Symfony() {
            super("symfony", "symfony/public/index.php", Map.of(
                    "php-symfony-http-kernel", "/usr/share/php/Symfony/Component/HttpKernel/HttpKernel.php",
                    "php-symfony-routing", "/usr/share/php/Symfony/Component/Routing/Router.php",
                    "php-symfony-runtime", "/usr/share/php/Symfony/Component/Runtime/SymfonyRuntime.php",
                    "php-symfony-error-handler", "/usr/share/php/Symfony/Component/ErrorHandler/ErrorHandler.php"));
        }

        /** As Slim's: random requests to /request, where Symfony's Request says what it made of each. */
        @Test
        void randomRequestsAnswerLikePhpFpm() throws Exception {
            sameForRandom(150, random -> RandomRequests.echoRequest(random, HOST));
        }

        /** As Slim's: random answers made as Symfony Responses or with header() and exit, compared with nginx's. */
        @Test
        void randomAnswersOfPhpGoOutLikeNginxSendsThem() throws Exception {
            sameForRandom(60, random -> RandomRequests.response(random, HOST));
        }
    }

    @Nested
    class SymfonyFramework extends SymfonyApp {
        SymfonyFramework() {
            super("symfony-framework", "symfony-framework/public/index.php", Map.of(
                    "php-symfony-framework-bundle", "/usr/share/php/Symfony/Bundle/FrameworkBundle/FrameworkBundle.php",
                    "php-symfony-runtime", "/usr/share/php/Symfony/Component/Runtime/SymfonyRuntime.php"));
        }
    }

    /** A Symfony application started by its front controller through the Symfony Runtime. */
    abstract static class SymfonyApp extends Served {
        SymfonyApp(String app, String worker, Map<String, String> packages) {
            super(app, worker, Map.of("APP_RUNTIME", "Folk\\Worker\\Symfony\\Runtime"), packages);
        }

        @Override
        List<String> phpArgs() {
            // The Symfony Runtime front controller loads the worker library itself only if prepended.
            List<String> args = new ArrayList<>(super.phpArgs());
            args.addAll(List.of("-d", "auto_prepend_file=" + LIBRARY));
            return args;
        }

        /** HttpFoundation's session: set, remove, clear, invalidate, migrate, flash messages, save, start, its id. */
        @Override
        String sessionOps(Random random) {
            return RandomRequests.symfonySessionOps(random);
        }

        /**
         * exit() while a StreamedResponse prints its body: the response's status and headers, then what
         * it printed. In the FrameworkBundle application, Symfony 6's StreamedResponseListener sends the
         * response during handle() with Response::send(), whose header() lines the worker keeps for such
         * an answer.
         */
        @Test
        void exitWhileABodyStreamsAnswersLikePhpFpm() throws Exception {
            RawHttp.Response exited = same("GET", "/streamed-exit");
            assertThat(exited.status()).isEqualTo(202);
            assertThat(exited.header("X-Streamed")).isEqualTo("yes");
            assertThat(exited.text()).isEqualTo("part one\n");
            assertThat(same("GET", "/").status()).isEqualTo(200);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }
    }

    @Nested
    class Laravel extends Served {
        Laravel() {
            super("laravel", "laravel/worker.php", Map.of(), Map.of(
                    "php-laravel-framework", "/usr/share/php/Illuminate/Foundation/Application.php"));
        }

        /** As Slim's: random requests to /request, where Laravel's Request says what it made of each. */
        @Test
        void randomRequestsAnswerLikePhpFpm() throws Exception {
            sameForRandom(150, random -> RandomRequests.echoRequest(random, HOST));
        }

        /** Laravel's session: put, forget, flush, regenerate, invalidate, flash, now, reflash, pull. */
        @Override
        String sessionOps(Random random) {
            return RandomRequests.laravelSessionOps(random);
        }

        /**
         * Laravel's {@code php artisan storage:link}: {@code public/storage} is a link to
         * {@code storage/app/public}, out of the public directory. nginx serves its files, and so does the
         * gateway (public-dir-links' default); what is not a file there is Laravel's 404 on both sides.
         */
        @Test
        void filesThroughStorageLinkAnswerLikeNginx() throws Exception {
            RawHttp.Response note = same("GET", "/storage/notes/welcome.txt");
            assertThat(note.status()).isEqualTo(200);
            assertThat(note.text()).startsWith("Uploaded notes, served through public/storage");
            assertThat(note.header("ETag")).as("a file's answer").isNotNull();
            sameHead("/storage/notes/welcome.txt");
            assertThat(same("GET", "/storage/notes/welcome.txt", "If-None-Match", note.header("ETag")).status())
                    .isEqualTo(304);
            assertThat(same("GET", "/storage/notes/missing.txt").status()).isEqualTo(404);
            same("GET", "/storage/notes/");
            assertThat(differences).as("every answer equal to nginx's").isEmpty();
        }

        /** As Slim's: random answers made as Laravel's responses or with header() and exit, compared with nginx's. */
        @Test
        void randomAnswersOfPhpGoOutLikeNginxSendsThem() throws Exception {
            sameForRandom(60, random -> RandomRequests.response(random, HOST));
        }

        /**
         * Laravel bootstraps in a worker's first request: its configured time zone (config/app.php:
         * Europe/Paris) and display_errors off stay for the worker's later requests, and what a
         * request changes for itself (the time zone of its user, display_errors) is set back after
         * it, as PHP-FPM starts every request afresh. Each of the two workers serves several.
         */
        @Test
        void laravelsOwnSettingsStayAndARequestsChangesAreSetBack() throws Exception {
            for (int i = 0; i < 8; i++) {
                RawHttp.Response settings = same("GET", i % 2 == 0 ? "/settings?change" : "/settings");
                assertThat(settings.text()).as("request %d", i).startsWith("Europe/Paris display_errors=");
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * What a request changes in Laravel's own state, for itself (the locale of its user, the
         * configuration, data shared with every view, the log's context, a callback for terminate()
         * as an after-response job registers, the URL generator's forced scheme and root and its
         * route defaults, a scoped service, also through its facade), the next request does not
         * see, as under PHP-FPM;
         * what a deferred provider adds when a request first needs it stays.
         */
        @Test
        void aRequestsLocaleConfigurationViewDataAndLogContextAreSetBackLikePhpFpm() throws Exception {
            for (int i = 0; i < 8; i++) {
                RawHttp.Response state = same("GET", i % 2 == 0 ? "/state?change" : "/state");
                assertThat(state.text()).as("request %d", i).isEqualTo(
                        "{\"locale\":\"en\",\"translator\":\"en\",\"name\":\"Folk test\",\"shared\":[\"__env\",\"app\"],\"log\":[],"
                        + "\"terminating callbacks\":1}\n");
            }
            for (int i = 0; i < 4; i++) {
                assertThat(same("GET", "/deferred").text()).as("request %d", i).isEqualTo("csv csv\n");
            }
            for (int i = 0; i < 4; i++) {
                assertThat(same("GET", "/scoped").text()).as("request %d", i).isEqualTo("{\"facade is the container's\":true}");
            }
            for (int i = 0; i < 6; i++) {
                RawHttp.Response url = same("GET", i % 2 == 0 ? "/url?change" : "/url");
                assertThat(url.text()).as("request %d", i).startsWith("{\"url\":\"http:\\/\\/").endsWith("\\/page\",\"defaults\":[]}");
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * A database transaction a request began and left open (an exception before its commit) is
         * rolled back when the request ends, as PHP-FPM's process closes its connection then: the
         * next requests see neither its rows nor a transaction of their own (in which whatever they
         * wrote would never be committed).
         */
        @Test
        void aTransactionARequestLeftOpenIsRolledBackLikePhpFpm() throws Exception {
            // The /db routes use SQLite (PHP's pdo_sqlite); the application's other routes do not need it.
            requirePackage("php-sqlite3", "/etc/php/8.2/mods-available/pdo_sqlite.ini");
            String none = "{\"notes\":[],\"transaction level\":0,\"in a transaction\":false}";
            assertThat(same("GET", "/db/notes").text()).isEqualTo(none);
            for (int i = 0; i < 3; i++) {
                assertThat(same("GET", "/db/forgotten-commit").status()).as("request %d", i).isEqualTo(500);
                assertThat(same("GET", "/db/notes").text()).as("request %d", i).isEqualTo(none);
                // Begun on the PDO, where Laravel does not count it: the next requests' writes would never be committed.
                assertThat(same("GET", "/db/pdo-begin").status()).as("request %d", i).isEqualTo(200);
                assertThat(same("GET", "/db/notes").text()).as("request %d", i).isEqualTo(none);
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * What a request leaves in its database connection for itself (a write on record, after
         * which a read/write connection's reads stick to the writer; the queries it logged) and
         * in the array cache store, the next request does not see, as under PHP-FPM, where each
         * request starts on a new connection and a new store.
         */
        @Test
        void aRequestsConnectionStateAndArrayCacheAreItsOwnLikePhpFpm() throws Exception {
            requirePackage("php-sqlite3", "/etc/php/8.2/mods-available/pdo_sqlite.ini");
            for (int i = 0; i < 6; i++) {
                assertThat(same("GET", "/db/request-state").text()).as("request %d", i)
                        .isEqualTo("{\"records modified\":false,\"queries logged\":0}");
                assertThat(same("GET", "/cache/array").text()).as("request %d", i)
                        .isEqualTo("{\"seen\":null,\"default store\":null}");
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * Monolog's state is each request's own, as under PHP-FPM, where each request makes its
         * loggers: a UidProcessor gives every request's lines an id of their own. Through each
         * side, more requests than the gateway has workers: without the reset, a worker's requests
         * would share one id.
         */
        @Test
        void eachRequestsLogLinesHaveAnIdOfTheirOwnLikePhpFpm() throws Exception {
            List<String> host = List.of("Host", HOST);
            for (int port : new int[] {fpmPort(), gatewayPort()}) {
                Set<String> ids = new HashSet<>();
                for (int i = 0; i < 6; i++) {
                    RawHttp.Response r = RawHttp.send(port, "GET", "/log-uid", host, new byte[0]);
                    assertThat(r.status()).isEqualTo(200);
                    ids.add(r.text());
                }
                assertThat(ids).as(port == fpmPort() ? "PHP-FPM's ids" : "the gateway's ids").hasSize(6);
            }
        }
    }

    /**
     * An application of scripts (several entry scripts, a function declared in each request, a
     * front controller for the other paths, a session, a form and uploads, errors, a download) run
     * by folk-worker-php's {@code Folk\Worker\Scripts}, each request's script in a process of its
     * own, against nginx + PHP-FPM's usual setup for such applications ({@code serve.sh} with
     * {@code FPM_SCRIPTS=1}).
     */
    @Nested
    class Scripts extends Compared {
        Scripts() {
            super("scripts", "scripts/worker.php", Map.of(), Map.of());
        }

        @Override
        Map<String, String> fpmEnvironment() {
            return Map.of("FPM_SCRIPTS", "1");
        }

        /** The native session operations, and the session settings a request changes: its process forgets them. */
        @Override
        String sessionOps(Random random) {
            return RandomRequests.scriptSessionOps(random);
        }

        @Override
        List<String> uploadPaths() {
            return List.of("/form.php");
        }

        @Test
        void eachPathRunsTheScriptItNamesAsUnderPhpFpm() throws Exception {
            for (String uri : List.of("/info.php/a/b?x=1&y[]=2", "/info.php", "/some/pretty/url?page=2", "/", "/index.php",
                    "/admin/", "/admin/index.php", "/admin/./../info.php", "/%69nfo.php", "/nothing.php", "/nothing.php/more",
                    "/admin/nothing.php", "/images/", "/robots.txt", "/css/app.css", "/redirect.php", "/forbidden.php",
                    "/fatal.php", "/exception.php", "/shutdown.php", "/destructor.php", "/exit-in-shutdown.php", "/header-callback.php?cookie=1",
                    "/header-callback.php?missing=1&text=1", "/header-callback.php?big=1", "/settings/show.php",
                    "/settings/show.php?exit=1", "/settings/deeper/show.php", "/download.php?kb=3000", "/download.php?kb=300&closed=1",
                    "/download.php?kb=300&sized=1", "/filtered.php", "/late-page.php")) {
                same("GET", uri);
            }
            // What a script printed has gone out once PHP-FPM's output_buffering buffer passed it on (at once without
            // one, once 4096 bytes filled it with one): cleaning the buffer keeps it, a later header(), status or
            // session_start() refuses.
            for (String page : List.of("/unbuffered/output.php?n=10", "/output.php?n=10", "/output.php?n=5000")) {
                for (String what : List.of("endclean", "getclean", "clean", "late")) {
                    same("GET", page + "&do=" + what);
                }
            }
            same("GET", "/output.php?n=50000");
            sameHead("/info.php");
            sameHead("/download.php?kb=3000");
            same("POST", "/form.php", List.of("Content-Type", "application/x-www-form-urlencoded"),
                    "name=Ada&tags[]=a".getBytes(StandardCharsets.US_ASCII));
            // filter_input() and the like: the filter extension's own copy of the query, form, cookies and FastCGI params;
            // getenv(): the FastCGI params.
            RawHttp.Response inputs = same("POST", "/inputs.php?n=42&tags[]=a&tags[]=b", List.of("Content-Type",
                    "application/x-www-form-urlencoded", "Cookie", "sid=first; sid=second", "X-Trace", "abc"),
                    "name=Ada&email=ada%40example.org".getBytes(StandardCharsets.US_ASCII));
            assertThat(inputs.text()).contains("\"n\":42", "\"email\":\"ada@example.org\"", "\"cookie\":{\"sid\":\"first\"}",
                    "\"HTTP_X_TRACE\":[true,\"abc\"]", "\"getenv\":[\"abc\",\"POST\"");
            same("GET", "/inputs.php");
            // PHP_SAPI, php_sapi_name(), STDIN, $argv and phpinfo(): PHP-FPM's, not the CLI's.
            assertThat(same("GET", "/sapi.php").text()).contains("\"PHP_SAPI\":\"fpm-fcgi\"", "\"STDIN\":false", "\"html\":true");
            RawHttp.Response gzip = same("GET", "/filtered.php", List.of("Accept-Encoding", "gzip"), new byte[0]);
            assertThat(gzip.header("Content-Encoding")).as("ob_gzhandler finds the client's Accept-Encoding").isEqualTo("gzip");
            // phpMyAdmin's way: its page flushed out of its ob_gzhandler buffer in a shutdown function, the stream's end at exit.
            RawHttp.Response late = same("GET", "/late-page.php?gzip=1", List.of("Accept-Encoding", "gzip"), new byte[0]);
            assertThat(new String(new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(late.body())).readAllBytes(),
                    StandardCharsets.UTF_8)).isEqualTo("<html><body>the page, printed late</body></html>\n");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
            // A directory named without its "/": nginx redirects to an absolute URL of its own port, the gateway to the path.
            RawHttp.Response fpm = RawHttp.send(fpmPort(), "GET", "/admin?x=1", List.of("Host", HOST), new byte[0]);
            RawHttp.Response ours = RawHttp.send(gatewayPort(), "GET", "/admin?x=1", List.of("Host", HOST), new byte[0]);
            assertThat(List.of(fpm.status(), ours.status())).containsExactly(301, 301);
            assertThat(fpm.header("Location")).isEqualTo("http://" + HOST + ":" + fpmPort() + "/admin/?x=1");
            assertThat(ours.header("Location")).isEqualTo("/admin/?x=1");
        }

        /**
         * Server-sent events from a script that prints and flushes without a buffer of its own
         * ({@code events/index.php}, in a directory without output_buffering): each event reaches the
         * client while the script still runs, as PHP-FPM sends it (behind nginx, told by
         * {@code X-Accel-Buffering: no}), and PHP then counts the headers as sent; a client that leaves
         * ends the script at its next flush, as PHP-FPM's failed write ends it, where it would otherwise
         * hold a worker for its whole run.
         */
        @Test
        void aScriptsFlushedOutputReachesTheClientAsItIsPrintedAndAClientThatLeavesEndsTheScript() throws Exception {
            Path[] states = {dir().resolve("fpm/app-state"), dir().resolve("worker/app-state")};
            int[] ports = {fpmPort(), gatewayPort()};
            for (int side = 0; side < 2; side++) {
                String server = side == 0 ? "PHP-FPM" : "the gateway";
                String name = "events-" + side + "-" + System.nanoTime();
                try (java.net.Socket client = eventsClient(ports[side], "/events/index.php?wait=" + name)) {
                    String first = readUntil(client, "data: first\n\n");
                    Files.writeString(states[side].resolve(name), ""); // only now: the script waits for it
                    String all = first + new String(client.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    assertThat(all).as("through %s", server).contains("data: the client had the first event")
                            .contains("data: headers sent: yes");
                }
                // Flushed events, then events printed without flush() (a report row by row): the client's leaving
                // ends the script either way, at a write that fails.
                for (String mode : List.of("", "&quiet=1")) {
                    String loop = name + (mode.isEmpty() ? "" : "-quiet");
                    try (java.net.Socket client = eventsClient(ports[side], "/events/index.php?loop=" + loop + mode)) {
                        readUntil(client, "data: 0\n\n");
                    }
                    Path end = states[side].resolve(loop + ".end");
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                    while (!Files.exists(end) && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                    assertThat(end).as("the script's end through %s, the client gone (%s)", server, mode).exists();
                    Matcher ended = Pattern.compile("sent=(\\d+) aborted=(\\d)\n").matcher(Files.readString(end));
                    assertThat(ended.matches()).as(Files.readString(end)).isTrue();
                    assertThat(ended.group(2)).as("connection_aborted() through %s (%s)", server, mode).isEqualTo("1");
                    assertThat(Integer.parseInt(ended.group(1))).as("events sent through %s before it ended (%s)", server, mode)
                            .isLessThan(400);
                }
            }
        }

        private static java.net.Socket eventsClient(int port, String uri) throws IOException {
            java.net.Socket client = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port);
            client.setSoTimeout(15_000); // a script that streams nothing would answer after its 10 s wait, or 20 s
            client.getOutputStream().write(ascii("GET " + uri + " HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n"));
            return client;
        }

        /** What the client read until {@code marker} arrived. */
        private static String readUntil(java.net.Socket client, String marker) throws IOException {
            StringBuilder read = new StringBuilder();
            byte[] buffer = new byte[4096];
            while (read.indexOf(marker) < 0) {
                int n = client.getInputStream().read(buffer);
                assertThat(n).as("%s before the end of the answer; read: %s", marker, read).isPositive();
                read.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
            }
            return read.toString();
        }

        /**
         * A directory linked into the public directory from out of it (public/theme -> ../themes/classic), as
         * Debian's packaged applications have them (DokuWiki's lib/tpl, WordPress's wp-content): nginx serves
         * its files and PHP-FPM runs its scripts, and so does the gateway with the worker.
         */
        @Test
        void aDirectoryLinkedFromOutOfThePublicDirectoryIsServedAsUnderNginx() throws Exception {
            RawHttp.Response css = same("GET", "/theme/style.css");
            assertThat(css.status()).isEqualTo(200);
            assertThat(css.header("Content-Type")).isEqualTo("text/css");
            assertThat(css.text()).startsWith("/* the theme's stylesheet");
            RawHttp.Response preview = same("GET", "/theme/preview.php");
            assertThat(preview.text()).isEqualTo("preview /theme/preview.php /theme/preview.php classic classic\n");
            for (String uri : List.of("/theme/preview.php/more?x=1", "/theme/", "/theme/nothing.css", "/theme/nothing.php")) {
                same("GET", uri);
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }
    }

    /**
     * DokuWiki, as Debian packages it ({@code dokuwiki}): an application of scripts nobody here wrote
     * ({@code doku.php}, {@code lib/exe/*.php}, {@code feed.php}), whose document root links out to
     * {@code /var/lib/dokuwiki} ({@code lib/tpl}, {@code lib/plugins}). Each server gets its own copy
     * of the code (its {@code inc/preload.php} pointing at the copy's configuration) and of a small
     * wiki ({@code folk-worker-php/src/test/fpm/dokuwiki.sh}), alike to the file times, with the same
     * secret salt; the client sends both the same session id. A session of editing (log in, edit and save a page, upload an image, fetch it, log
     * out) and the wiki's files are compared with nginx + PHP-FPM's answers, the worker running
     * each request's script in a process of its own ({@code Folk\Worker\Scripts}).
     */
    @Nested
    class DokuWiki extends DebianApp {
        private static final Path DOKUWIKI = Path.of("/usr/share/dokuwiki");
        /** A session id both servers accept (session.use_strict_mode = 0), so that both derive the same form tokens. */
        private static final String SESSION = "DokuWiki=folkdokuwiki0123456789abcdefghij";
        private static final Pattern AUTH_COOKIE = Pattern.compile("\\b(DW[0-9a-f]{32})=(?!deleted)[^;\\s\"]+");
        /**
         * A date and time to the minute or second: DokuWiki's (2026/12/06 13:38, also JSON-escaped in the
         * signature every page of a logged-in user carries: 2026\/12\/06 13:38), ISO 8601's, a feed's.
         */
        private static final Pattern WHEN = Pattern.compile(
                "\\b\\d{4}(?:\\\\?/|-)\\d{2}(?:\\\\?/|-)\\d{2}[ T]\\d{2}:\\d{2}(?::\\d{2})?(?:[+-]\\d{2}:?\\d{2}|Z)?"
                + "|\\b\\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} [+-]\\d{4}");
        /** DokuWiki's validator of a generated style sheet or a media file: the MD5 of its time, to the second. */
        private static final Pattern TIME_ETAG = Pattern.compile("^\"[0-9a-f]{32}\"$");
        private static final Pattern SECTOK = Pattern.compile("name=\"sectok\" value=\"([0-9a-f]*)\"");

        DokuWiki() {
            super("dokuwiki", "dokuwiki.sh", Map.of("dokuwiki", "/usr/share/dokuwiki/doku.php"));
        }

        @Override
        String fixedCookie() {
            return SESSION;
        }

        @Override
        String maskApp(String value) {
            String v = AUTH_COOKIE.matcher(value).replaceAll("$1=<login>");
            v = TIME_ETAG.matcher(v).replaceAll("\"<md5-of-time>\"");
            v = EPOCH.matcher(v).replaceAll("<time>");
            return WHEN.matcher(v).replaceAll("<when>");
        }

        private static String sectok(RawHttp.Response page) {
            Matcher m = SECTOK.matcher(page.text());
            assertThat(m.find()).as("a form token in %s", page.text()).isTrue();
            return m.group(1);
        }

        @Test
        void anEditingSessionAnswersAsUnderPhpFpm() throws Exception {
            newBrowsers();
            assertThat(both("/").status()).as("index.php sends to doku.php").isEqualTo(302);
            assertThat(both("/doku.php?id=start").text()).contains("A <strong>wiki</strong> of the <em>Folk</em> tests");
            both("/doku.php?id=nowhere");
            both("/doku.php?id=start&do=login");
            RawHttp.Response login = post("/doku.php?id=start&do=login",
                    form("sectok", "", "id", "start", "do", "login", "u", "admin", "p", "secret"));
            assertThat(login.status()).as("logged in: back to the page").isEqualTo(302);
            assertThat(ourJar).as("the login cookie").isNotEmpty();
            assertThat(both("/doku.php?id=start").text()).contains("Logged in as: <bdi>Admin</bdi>");

            RawHttp.Response edit = both("/doku.php?id=playground:playground&do=edit");
            RawHttp.Response saved = post("/doku.php", form("sectok", sectok(edit), "id", "playground:playground",
                    "rev", "0", "date", field(edit, "date"), "prefix", ".", "suffix", "", "changecheck",
                    field(edit, "changecheck"), "target", "section",
                    "wikitext", "====== Playground ======\nSaved through the **gateway** and through PHP-FPM.\n",
                    "summary", "a test edit", "do[save]", "Save"));
            assertThat(saved.status()).as("saved: back to the page").isEqualTo(302);
            assertThat(both("/doku.php?id=playground:playground").text())
                    .contains("Saved through the <strong>gateway</strong>");
            both("/doku.php?id=playground:playground&do=revisions");
            both("/doku.php?id=playground:playground&do=diff");
            both("/doku.php?id=playground:playground&do=export_raw");
            both("/doku.php?do=recent");
            both("/doku.php?do=index");
            both("/doku.php?do=search&q=nothingatall");

            RawHttp.Response manager = both("/lib/exe/mediamanager.php?ns=playground");
            byte[] image = Files.readAllBytes(DOKUWIKI.resolve("lib/images/email.png"));
            String boundary = "folkboundary7MA4YWxkTrZu0gW";
            java.io.ByteArrayOutputStream upload = new java.io.ByteArrayOutputStream();
            upload.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"sectok\"\r\n\r\n" + sectok(manager)
                    + "\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"mediaid\"\r\n\r\nfolk.png\r\n--"
                    + boundary + "\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"email.png\"\r\n"
                    + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            upload.write(image);
            upload.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
            both("POST", "/lib/exe/mediamanager.php?ns=playground", List.of("Content-Type",
                    "multipart/form-data; boundary=" + boundary), upload.toByteArray());
            RawHttp.Response fetched = bothRevalidated("/lib/exe/fetch.php?media=playground:folk.png");
            assertThat(fetched.body()).as("the uploaded image, as uploaded").isEqualTo(image);
            both("GET", "/lib/exe/fetch.php?media=playground:folk.png", List.of("Range", "bytes=0-9"), new byte[0]);
            both("HEAD", "/lib/exe/fetch.php?media=playground:folk.png", List.of(), new byte[0]);
            both("/lib/exe/detail.php?id=playground:playground&media=playground:folk.png");
            both("/lib/exe/fetch.php?media=playground:nothing.png");

            RawHttp.Response page = both("/doku.php?id=start");
            assertThat(both("/doku.php?do=logout&sectok=" + sectok(page)).status()).isEqualTo(302);
            assertThat(both("/doku.php?id=start").text()).doesNotContain("Logged in as");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        @Test
        void theWikisFilesAndScriptsAnswerAsUnderNginx() throws Exception {
            RawHttp.Response start = both("/doku.php?id=start");
            Matcher css = Pattern.compile("/lib/exe/css\\.php\\?t=dokuwiki&amp;tseed=[0-9a-f]+").matcher(start.text());
            assertThat(css.find()).isTrue();
            // DokuWiki dates a style sheet it has just made at the time it began (its cache file may be
            // written a second later, and dated so from then on), under PHP-FPM as here: asked once first.
            for (int port : new int[] {fpmPort(), gatewayPort()}) {
                RawHttp.send(port, "GET", css.group().replace("&amp;", "&"), List.of("Host", HOST), new byte[0]);
            }
            RawHttp.Response style = bothRevalidated(css.group().replace("&amp;", "&"));
            assertThat(style.header("Content-Type")).startsWith("text/css");
            both("/lib/exe/js.php?t=dokuwiki&tseed=x");
            RawHttp.Response logo = both("/lib/tpl/dokuwiki/images/logo.png");
            assertThat(logo.header("Content-Type")).as("a file through Debian's link lib/tpl -> /var/lib/dokuwiki/lib/tpl")
                    .isEqualTo("image/png");
            assertThat(logo.header("ETag")).isNotNull();
            for (String uri : List.of("/lib/images/diff.png", "/lib/tpl/dokuwiki/main.php", "/lib/tpl/dokuwiki/",
                    "/feed.php", "/lib/exe/opensearch.php", "/lib/exe/manifest.php", "/lib/exe/fetch.php?media=wiki:diff.png&w=20",
                    "/VERSION", "/conf/local.php", "/data/pages/start.txt", "/inc/init.php", "/install.php")) {
                both(uri);
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }
    }

    /**
     * MediaWiki, as Debian packages it ({@code mediawiki}: a document root of links into
     * /usr/share/mediawiki), through {@code Scripts}: a wiki of its own on SQLite (serve.sh's neighbour
     * mediawiki.sh), compared request by request with PHP-FPM through an editing session, its API, its
     * REST API, an upload, and its resources.
     */
    @Nested
    class MediaWiki extends DebianApp {
        /** A token of the session's secret (random) and its time: its hex part, before "+\" in HTML, JSON or a URL. */
        private static final Pattern TOKEN = Pattern.compile("\\b[0-9a-f]{32,40}(?=\\+|%2B)");
        private static final Pattern SESSION = Pattern.compile("\\b(wiki_session|mw_installer_session)=[0-9a-z]+");
        /** The id of the request, which MediaWiki draws at random (X-Request-Id, wgRequestId). */
        private static final Pattern REQUEST_ID = Pattern.compile("^[0-9a-z]{24}$|(?<=\"wgRequestId\":\")[0-9a-z]{24}");
        /** What the parser and the page report of their own time. */
        private static final Pattern TIMINGS = Pattern.compile("(\"(?:cputime|walltime)\":\")[0-9.]+|((?:CPU|Real) time usage: )[0-9.]+"
                + "|(\"wgBackendResponseTime\":)\\d+|(\\d{1,3}\\.\\d{2}%\\s+)[0-9.]+(?=\\s+\\d+ )");
        /** MediaWiki's times: 20261206150412, 2026-12-06T15:04:12Z, "15:04, 6 December 2026", "15:04" (to the minute). */
        private static final Pattern WHEN = Pattern.compile("(?<![0-9])20\\d{12}(?![0-9])|\\b\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z"
                + "|\\b\\d{2}:\\d{2}, \\d{1,2} \\w+ \\d{4}|(?<![0-9:])\\d{2}:\\d{2}(?![0-9:])");

        MediaWiki() {
            super("mediawiki", "mediawiki.sh", Map.of("mediawiki", "/usr/share/mediawiki/index.php"));
        }

        /** MediaWiki reads the configuration of the installation this names (mediawiki.sh). */
        @Override
        Map<String, String> fpmEnvironment() {
            return Map.of("FPM_SCRIPTS", "1", "FPM_PASS_ENV", "MW_INSTALL_PATH",
                    "MW_INSTALL_PATH", fpmApp().resolve("public").toString());
        }

        @Override
        Map<String, String> workerEnvironment() {
            return Map.of("MW_INSTALL_PATH", gatewayApp().resolve("public").toString());
        }

        @Override
        String maskApp(String value) {
            // EPOCH: the installer's LanguageRequestTime
            return masked(value, TOKEN, "<token>", SESSION, "$1=<session-id>", REQUEST_ID, "<request-id>",
                    TIMINGS, "$1$2$3$4<time>", FILE_ETAG, "\"<time>-$1\"", EPOCH, "<time>", WHEN, "<when>");
        }

        /**
         * MediaWiki sets its session's cookies again, the same ones, when its session's save finds the
         * metadata dirty, which depends on the clock (SessionBackend::renew() and its expiry): one run's
         * login answer had them twice under PHP-FPM and once through the gateway. A cookie set twice
         * alike is set once for any client, so repeats are compared once.
         */
        @Override
        List<String> headerForApp(String name, List<String> values) {
            return name.equals("set-cookie") ? values.stream().distinct().collect(Collectors.toList()) : values;
        }

        @Test
        void anEditorsSessionAnswersAsUnderPhpFpm() throws Exception {
            newBrowsers();
            assertThat(both("/").header("Location")).isEqualTo("http://localhost/index.php/Main_Page");
            RawHttp.Response main = both("/index.php/Main_Page");
            assertThat(main.text()).contains("MediaWiki has been installed");
            // MediaWiki adds it in its header_register_callback() callback, which PHP-FPM runs.
            assertThat(main.header("X-Request-Id")).as("the header callback's line").isNotNull();

            RawHttp.Response[] login = pages("/index.php?title=Special:UserLogin");
            RawHttp.Response loggedIn = submit("/index.php?title=Special:UserLogin", login, List.of("wpLoginToken"),
                    "title", "Special:UserLogin", "authAction", "login", "wpName", "Admin", "wpPassword", "Folk-secret-1",
                    "wploginattempt", "Log in")[1];
            assertThat(loggedIn.status()).as("logged in: to the main page").isEqualTo(302);
            assertThat(ourJar).containsKeys("wiki_session", "wikiUserName");
            assertThat(both("/index.php/Main_Page").text()).contains("Special:Contributions/Admin");

            RawHttp.Response[] edit = pages("/index.php?title=Folk&action=edit");
            RawHttp.Response saved = submit("/index.php?title=Folk&action=submit", edit,
                    List.of("wpEditToken", "wpStarttime", "wpEdittime", "wpUnicodeCheck"), "wpTextbox1",
                    "Saved through the '''gateway''' and through PHP-FPM.\n\n[[Main Page]] [[Nowhere]]",
                    "wpSummary", "a test edit", "wpSave", "Save page", "model", "wikitext", "format", "text/x-wiki",
                    "wpUltimateParam", "1")[1];
            assertThat(saved.status()).as("saved: to the page").isEqualTo(302);
            assertThat(both("/index.php/Folk").text()).contains("Saved through the <b>gateway</b>");
            both("/index.php?title=Folk&action=history");
            both("/index.php?title=Folk&action=raw");
            both("/index.php?title=Folk&action=info");
            both("/index.php?title=Special:RecentChanges");
            both("/index.php?title=Special:Search&search=gateway&fulltext=1");
            both("/index.php/Nowhere");

            RawHttp.Response[] tokens = pages("/api.php?action=query&meta=tokens&format=json");
            pair("POST", "/api.php", List.of("Content-Type", "application/x-www-form-urlencoded"), side -> form("action", "edit",
                    "title", "Folk_API", "text", "Through the ''API''.", "format", "json", "token",
                    tokens[side].text().replaceAll("(?s).*\"csrftoken\":\"([^\"]+)\".*", "$1").replace("\\\\", "\\"))
                    .getBytes(StandardCharsets.UTF_8));
            assertThat(both("/api.php?action=parse&page=Folk_API&prop=text&format=json&formatversion=2").text())
                    .contains("Through the <i>API</i>.");
            both("/rest.php/v1/page/Folk");
            both("/rest.php/v1/page/Folk/history");
            both("/rest.php/v1/search/page?q=gateway&limit=5");

            byte[] image = Files.readAllBytes(Path.of("/usr/share/mediawiki/resources/assets/poweredby_mediawiki_88x31.png"));
            RawHttp.Response[] uploadPage = pages("/index.php/Special:Upload");
            String boundary = "folkboundary7MA4YWxkTrZu0gW";
            RawHttp.Response uploaded = pair("POST", "/index.php/Special:Upload",
                    List.of("Content-Type", "multipart/form-data; boundary=" + boundary), side -> multipart(boundary, List.of(
                            new String[] {"wpEditToken", field(uploadPage[side], "wpEditToken")},
                            new String[] {"title", "Special:Upload"}, new String[] {"wpDestFile", "Folk.png"},
                            new String[] {"wpUploadDescription", "an upload"}, new String[] {"wpSourceType", "file"},
                            new String[] {"wpIgnoreWarning", "1"}, new String[] {"wpUpload", "Upload file"},
                            new String[] {"wpUploadFile", new String(image, StandardCharsets.ISO_8859_1), "folk.png", "image/png"})))[1];
            assertThat(uploaded.status()).as("uploaded: to the file's page").isEqualTo(302);
            RawHttp.Response filePage = both("/index.php/File:Folk.png");
            Matcher file = Pattern.compile("href=\"(/images/[0-9a-f]/[0-9a-f]{2}/Folk\\.png)\"").matcher(filePage.text());
            assertThat(file.find()).as("the file's link in %s", filePage.text()).isTrue();
            assertThat(bothRevalidated(file.group(1)).body()).as("the uploaded image, as uploaded").isEqualTo(image);
            both("GET", file.group(1), List.of("Range", "bytes=0-9"), new byte[0]);

            RawHttp.Response[] logout = pages("/index.php?title=Special:UserLogout");
            submit("/index.php?title=Special:UserLogout", logout, List.of("wpEditToken"), "title", "Special:UserLogout");
            assertThat(both("/index.php/Main_Page").text()).doesNotContain("Special:Contributions/Admin");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        @Test
        void itsEntryPointsAndResourcesAnswerAsUnderNginx() throws Exception {
            newBrowsers();
            String css = "/load.php?lang=en&modules=skins.vector.styles.legacy&only=styles&skin=vector";
            // A wiki's first load.php versions its modules before the dependencies of their files are stored,
            // under PHP-FPM as here: asked once first.
            for (int port : new int[] {fpmPort(), gatewayPort()}) {
                RawHttp.send(port, "GET", css, List.of("Host", HOST), new byte[0]);
            }
            RawHttp.Response styles = bothRevalidated(css);
            assertThat(styles.header("Content-Type")).startsWith("text/css");
            RawHttp.Response logo = both("/resources/assets/change-your-logo.svg");
            assertThat(logo.header("Content-Type")).as("a file through Debian's link resources -> /usr/share/mediawiki")
                    .isEqualTo("image/svg+xml");
            for (String uri : List.of("/skins/Vector/resources/common/images/search.svg", "/opensearch_desc.php", "/api.php",
                    "/api.php?action=query&meta=siteinfo&format=json", "/api.php?action=opensearch&search=Ma&format=json",
                    "/rest.php/v1/page/Main_Page", "/rest.php/nowhere", "/thumb.php?f=Nothing.png&width=20",
                    "/img_auth.php/Nothing.png", "/index.php?title=Special:Version", "/index.php?title=Main_Page&action=render",
                    "/index.php%2FMain_Page", "/includes/WebStart.php", "/maintenance/", "/mw-config/", "/LocalSettings.php",
                    "/composer.json", "/favicon.ico")) {
                both(uri);
            }
            both("HEAD", "/index.php/Main_Page", List.of(), new byte[0]);
            both("OPTIONS", "/rest.php/v1/page/Main_Page", List.of(), new byte[0]);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }
    }

    /**
     * WordPress, as Debian packages it ({@code wordpress}), through {@code Scripts}: a site of its own
     * (serve.sh's neighbour wordpress.sh) on a MariaDB server of the test's own (mariadb.sh), a database
     * for each side, installed through its installer and compared request by request with PHP-FPM
     * through an author's session, its APIs, an upload, and its entry points and files.
     */
    @Nested
    class WordPress extends DebianApp {
        /** WordPress's nonces: ten hex digits of a hash of the session's token (random at each log-in) and the time. */
        private static final Pattern NONCE = Pattern.compile("(?<![0-9A-Za-z])[0-9a-f]{10}(?![0-9A-Za-z])");
        /** The log-in cookies' values: the user, their expiry, the session's token and a hash of them. */
        private static final Pattern AUTH_COOKIE = Pattern.compile("(wordpress_(?:logged_in_|sec_)?[0-9a-f]{32}=)[^;]+");
        /** The password the installer proposes, drawn at random. */
        private static final Pattern PROPOSED_PASSWORD = Pattern.compile("(data-pw=\")[^\"]*");
        /**
         * Times each server wrote its own: to the second (2026-12-06T17:00:34, 17:00:34 in feeds), to the minute
         * as the dashboard shows them (5:12 pm), in milliseconds (the media library's 1796577311000).
         */
        private static final Pattern WHEN = Pattern.compile("(?<![0-9:])\\d{2}:\\d{2}:\\d{2}(?![0-9:])"
                + "|\\b\\d{1,2}:\\d{2}\\s?(?:am|pm)\\b|(?<![0-9])1[6-9]\\d{11}(?![0-9])");
        /** Which of Gravatar's servers an avatar without an e-mail address comes from: drawn at random (rand(0, 2)). */
        private static final Pattern GRAVATAR = Pattern.compile("(?<=/)[0-2](?=\\.gravatar\\.com)");
        /** A feed's validator: a hash of its last post's time. */
        private static final Pattern FEED_ETAG = Pattern.compile("^\"[0-9a-f]{32}\"$");
        private static final String PASSWORD = "Folk-secret-1";
        /** The site's address: the Host the requests name (wordpress.sh's wp-config.php). */
        private static final String SITE = "http://" + HOST;

        private boolean installed;

        WordPress() {
            super("wordpress", "wordpress.sh", Map.of("wordpress", "/usr/share/wordpress/wp-settings.php",
                    "mariadb-server", "/usr/sbin/mariadbd"));
        }

        /** One MariaDB server, a database for each side (wordpress.sh's wp-config.php reads which from the environment). */
        @Override
        void prepare(Path dir) throws Exception {
            run("bash", FPM.resolve("mariadb.sh").toString(), "start", dir.resolve("db").toString(), "fpm", "gateway");
            super.prepare(dir);
        }

        @AfterAll
        void stopDatabase() throws Exception {
            run("bash", FPM.resolve("mariadb.sh").toString(), "stop", dir().resolve("db").toString());
        }

        @Override
        Map<String, String> fpmEnvironment() {
            return Map.of("FPM_SCRIPTS", "1", "FPM_PASS_ENV", "FOLK_WP_DB_SOCKET FOLK_WP_DB_NAME",
                    "FOLK_WP_DB_SOCKET", dir().resolve("db/db.sock").toString(), "FOLK_WP_DB_NAME", "fpm");
        }

        /**
         * What a WordPress site behind the gateway sets: WordPress offers addresses without /index.php
         * only behind a server whose SERVER_SOFTWARE it knows (the auto-configuration's README).
         */
        @Override
        Map<String, String> gatewayProperties() {
            return Map.of("folk.http.server-software", "nginx");
        }

        @Override
        Map<String, String> workerEnvironment() {
            return Map.of("FOLK_WP_DB_SOCKET", dir().resolve("db/db.sock").toString(), "FOLK_WP_DB_NAME", "gateway");
        }

        @Override
        String maskApp(String value) {
            if (value.equals("application/javascript")) {
                // A script file's type in nginx 1.22's table; the servlet container's is RFC 9239's text/javascript.
                return "text/javascript";
            }
            // Nonces before times: a nonce of ten decimal digits from 16.. to 19.. looks like a time (a flake seen once).
            return masked(value, AUTH_COOKIE, "$1<auth>", PROPOSED_PASSWORD, "$1<password>", FEED_ETAG, "\"<hash>\"",
                    FILE_ETAG, "\"<time>-$1\"", NONCE, "<nonce>", EPOCH, "<time>", WHEN, "<time>", GRAVATAR, "<n>");
        }

        /** The site installed through its installer, on both servers, once (by the first test that needs it). */
        void installed() throws IOException {
            if (installed) {
                return;
            }
            assertThat(both("/").header("Location")).as("an empty site: to its installer").isEqualTo(SITE + "/wp-admin/install.php");
            both("/wp-admin/install.php");
            RawHttp.Response done = post("/wp-admin/install.php?step=2", form("weblog_title", "Folk WordPress", "user_name", "admin",
                    "admin_password", PASSWORD, "admin_password2", PASSWORD, "pw_weak", "1", "admin_email", "admin@example.org",
                    "blog_public", "0", "language", ""));
            assertThat(done.text()).contains("WordPress has been installed");
            installed = true;
        }

        /** Where the gateway's answer sends the client, as a path on this site. */
        private String path(RawHttp.Response answer) {
            String location = answer.header("Location");
            assertThat(location).as("a redirect on the site, status %d; differences so far: %s", answer.status(), differences)
                    .startsWith(SITE + "/");
            return location.substring(SITE.length());
        }

        /** An XML-RPC call, as a blogging client makes it: its body is read from php://input. */
        private RawHttp.Response xmlrpc(String call) throws IOException {
            return both("POST", "/xmlrpc.php", List.of("Content-Type", "text/xml"),
                    ("<?xml version=\"1.0\"?><methodCall>" + call + "</methodCall>").getBytes(StandardCharsets.UTF_8));
        }

        /** {@code pattern}'s first group in each server's page: a token each server gave its own client. */
        private static String[] each(RawHttp.Response[] pages, String pattern) {
            String[] found = new String[2];
            for (int side = 0; side < 2; side++) {
                Matcher m = Pattern.compile(pattern).matcher(pages[side].text());
                assertThat(m.find()).as("%s in %s", pattern, pages[side].text()).isTrue();
                found[side] = m.group(1);
            }
            return found;
        }

        @Test
        void anAuthorsSessionAnswersAsUnderPhpFpm() throws Exception {
            newBrowsers();
            installed();
            RawHttp.Response home = both("/");
            assertThat(home.status()).isEqualTo(200);
            assertThat(home.text()).contains("Folk WordPress").contains("Hello world!");
            both("/?p=1");
            both("/?s=hello");
            assertThat(both("/?p=999").status()).isEqualTo(404);
            both("/?feed=rss2");
            both("/?rest_route=/wp/v2/posts");

            both("/wp-login.php"); // its test cookie, which the log-in asks for
            RawHttp.Response loggedIn = post("/wp-login.php", form("log", "admin", "pwd", PASSWORD, "wp-submit", "Log In",
                    "redirect_to", "/wp-admin/", "testcookie", "1"));
            assertThat(loggedIn.status()).as("logged in: to the dashboard").isEqualTo(302);
            assertThat(ourJar.keySet()).anyMatch(name -> name.startsWith("wordpress_logged_in_"));
            RawHttp.Response[] dashboard = pages("/wp-admin/");
            assertThat(dashboard[1].text()).contains("Dashboard").contains("Howdy, <span class=\"display-name\">admin");

            // Pretty permalinks (the installer could not try them: its request to the site's own address fails
            // here), through the settings form: every address then reaches index.php through the front controller.
            String structure = "/%year%/%monthnum%/%day%/%postname%/";
            submit("/wp-admin/options-permalink.php", pages("/wp-admin/options-permalink.php"), List.of("_wpnonce"),
                    "_wp_http_referer", "/wp-admin/options-permalink.php", "selection", structure, "permalink_structure", structure,
                    "category_base", "", "tag_base", "", "submit", "Save Changes");
            RawHttp.Response post = both(path(both("/?p=1")));
            assertThat(post.text()).contains("Welcome to WordPress.");
            both(path(both("/?feed=rss2")));
            both("/wp-json/wp/v2/posts");
            both("/category/uncategorized/");
            assertThat(both("/2026/nothing-here/").status()).isEqualTo(404);

            // A post through the REST API, with the nonce the editor's page gave each side.
            String[] restNonce = each(pages("/wp-admin/post-new.php"), "wpApiSettings = \\{[^}]*\"nonce\":\"([0-9a-f]+)\"");
            RawHttp.Response created = pair("POST", "/?rest_route=/wp/v2/posts", List.of("Content-Type",
                    "application/x-www-form-urlencoded"), side -> form("_wpnonce", restNonce[side], "title", "Through the gateway",
                    "content", "Saved <b>twice</b>: through the gateway and through PHP-FPM.", "status", "publish")
                    .getBytes(StandardCharsets.UTF_8))[1];
            assertThat(created.status()).as("created: %s", created.text()).isEqualTo(201);
            String link = created.text().replaceAll("(?s).*\"link\":\"([^\"]+)\".*", "$1").replace("\\/", "/");
            assertThat(both(link.substring(SITE.length())).text()).contains("Saved <b>twice</b>");

            // An image through the media uploader's endpoint (multipart, with its nonce), then served as a file.
            byte[] image = Files.readAllBytes(Path.of("/usr/share/wordpress/wp-includes/images/w-logo-blue.png"));
            String[] uploadNonce = each(pages("/wp-admin/media-new.php"), "\"multipart_params\":\\{[^}]*\"_wpnonce\":\"([0-9a-f]+)\"");
            String boundary = "folkboundaryWp7MA4YWxkTrZu0gW";
            RawHttp.Response uploaded = pair("POST", "/wp-admin/async-upload.php",
                    List.of("Content-Type", "multipart/form-data; boundary=" + boundary), side -> multipart(boundary, List.of(
                            new String[] {"name", "folk.png"}, new String[] {"action", "upload-attachment"},
                            new String[] {"_wpnonce", uploadNonce[side]},
                            new String[] {"async-upload", new String(image, StandardCharsets.ISO_8859_1), "folk.png", "image/png"})))[1];
            assertThat(uploaded.text()).as("uploaded").contains("\"success\":true");
            String file = uploaded.text().replaceAll("(?s).*\"url\":\"([^\"]+)\".*", "$1").replace("\\/", "/");
            assertThat(file).as("the upload's address").matches(Pattern.quote(SITE) + "/wp-content/uploads/\\d{4}/\\d{2}/folk\\.png");
            assertThat(bothRevalidated(file.substring(SITE.length())).body()).as("the image, as uploaded")
                    .isEqualTo(image);

            RawHttp.Response xmlrpc = xmlrpc("<methodName>wp.getUsersBlogs</methodName><params><param><value>admin</value>"
                    + "</param><param><value>" + PASSWORD + "</value></param></params>");
            assertThat(xmlrpc.text()).contains("<string>Folk WordPress</string>");
            post("/wp-admin/admin-ajax.php", form("action", "heartbeat", "interval", "60", "screen_id", "dashboard"));
            RawHttp.Response commented = post("/wp-comments-post.php", form("comment", "A comment through the gateway",
                    "comment_post_ID", "1", "comment_parent", "0"));
            assertThat(commented.status()).as("commented: back to the post").isEqualTo(302);
            assertThat(both(path(commented).replaceAll("#.*", "")).text()).contains("A comment through the gateway");

            String[] logout = each(dashboard, Pattern.quote(SITE) + "(/wp-login\\.php\\?action=logout&#038;_wpnonce=[0-9a-f]+)");
            RawHttp.Response loggedOut = pair("GET", side -> logout[side].replace("&#038;", "&"),
                    List.of(), side -> new byte[0])[1];
            assertThat(loggedOut.status()).as("logged out").isEqualTo(302);
            assertThat(both("/wp-admin/").status()).as("the dashboard: to the log-in page").isEqualTo(302);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        @Test
        void itsEntryPointsAndFilesAnswerAsUnderNginx() throws Exception {
            newBrowsers();
            installed();
            RawHttp.Response css = bothRevalidated("/wp-includes/css/dashicons.min.css");
            assertThat(css.header("Content-Type")).startsWith("text/css");
            RawHttp.Response linked = bothRevalidated("/wp-includes/js/underscore.min.js");
            assertThat(linked.status()).as("a file through Debian's link into /usr/share/javascript").isEqualTo(200);
            for (String uri : List.of("/wp-content/themes/twentytwentythree/style.css", "/readme.html", "/wp-json/",
                    "/wp-json/wp/v2/types", "/wp-json/nowhere", "/?feed=atom", "/?feed=rss2&withcomments=1", "/robots.txt",
                    "/wp-login.php?action=lostpassword", "/wp-login.php?action=register", "/wp-admin/", "/wp-admin/install.php",
                    "/wp-admin/admin-ajax.php", "/xmlrpc.php", "/xmlrpc.php?rsd", "/wp-cron.php", "/wp-links-opml.php",
                    "/wp-trackback.php", "/wp-content/", "/wp-content/plugins/", "/wp-config.php", "/wp-includes/version.php",
                    "/nowhere/at/all", "/?author=1", "/?cat=1", "/favicon.ico")) {
                both(uri);
            }
            both("HEAD", "/", List.of(), new byte[0]);
            both("OPTIONS", "/wp-json/wp/v2/posts", List.of(), new byte[0]);
            post("/wp-login.php?action=lostpassword", form("user_login", "nobody", "redirect_to", "", "wp-submit", "Get New Password"));
            xmlrpc("<methodName>demo.sayHello</methodName>");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }
    }

    /**
     * An application Debian packages, made into a site of its own by a script beside serve.sh
     * ({@code dokuwiki.sh}, {@code mediawiki.sh}, {@code wordpress.sh}) and copied for each server (cp -a: the copies keep the
     * file times), served as an application of scripts. Requests go to both servers as from a browser
     * of each: with the cookies that server set, and, where a form carries a token of the server's own,
     * with a body made from that server's page.
     */
    abstract static class DebianApp extends BothServers {
        /** A time in seconds, also where DokuWiki glues it to a name ({@code id="rev1796561156"}). */
        static final Pattern EPOCH = Pattern.compile("(?<![0-9])1[6-9]\\d{8}(?![0-9])");
        /** nginx's validator of a file, its time and size: an upload's time is each server's own. */
        static final Pattern FILE_ETAG = Pattern.compile("^\"[0-9a-f]+-([0-9a-f]+)\"$");
        private final String script;
        final Map<String, String> fpmJar = new LinkedHashMap<>();
        final Map<String, String> ourJar = new LinkedHashMap<>();

        DebianApp(String app, String script, Map<String, String> packages) {
            super(app, "worker.php", Map.of(), packages);
            this.script = script;
        }

        /** A cookie sent to both servers besides the ones they set (a session id both accept), or null. */
        String fixedCookie() {
            return null;
        }

        @Override
        Map<String, String> fpmEnvironment() {
            return Map.of("FPM_SCRIPTS", "1");
        }

        @Override
        Path fpmApp() {
            return dir().resolve("fpm-app");
        }

        @Override
        Path gatewayApp() {
            return dir().resolve("gateway-app");
        }

        @Override
        Path workerScript() {
            return gatewayApp().resolve("worker.php");
        }

        @Override
        void prepare(Path dir) throws Exception {
            Path site = dir.resolve("template");
            run("bash", FPM.resolve(script).toString(), site.toString());
            run("cp", "-a", site.toString(), dir.resolve("fpm-app").toString());
            run("cp", "-a", site.toString(), dir.resolve("gateway-app").toString());
        }

        static void run(String... command) throws Exception {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("%s: %s", String.join(" ", command), out)
                    .isTrue();
        }

        /** {@code value} with each pattern's matches replaced, in order: pattern, replacement, pattern, ... */
        static String masked(String value, Object... patternsAndReplacements) {
            String v = value;
            for (int i = 0; i < patternsAndReplacements.length; i += 2) {
                v = ((Pattern) patternsAndReplacements[i]).matcher(v).replaceAll((String) patternsAndReplacements[i + 1]);
            }
            return v;
        }

        /** Forgets the cookies both servers set. */
        void newBrowsers() {
            fpmJar.clear();
            ourJar.clear();
        }

        /** The request to both servers, each with the cookies it set; compared; the gateway's answer. */
        RawHttp.Response both(String method, String uri, List<String> headers, byte[] body) throws IOException {
            return pair(method, uri, headers, side -> body)[1];
        }

        RawHttp.Response both(String uri) throws IOException {
            return both("GET", uri, List.of(), new byte[0]);
        }

        RawHttp.Response post(String uri, String form) throws IOException {
            return both("POST", uri, List.of("Content-Type", "application/x-www-form-urlencoded"),
                    form.getBytes(StandardCharsets.UTF_8));
        }

        /**
         * {@link #both}, with the body each server gets ({@code body.apply(0)} PHP-FPM's, {@code apply(1)}
         * the gateway's); returns PHP-FPM's answer and the gateway's.
         */
        RawHttp.Response[] pair(String method, String uri, List<String> headers, java.util.function.IntFunction<byte[]> body)
                throws IOException {
            return pair(method, side -> uri, headers, body);
        }

        /** {@link #pair(String, String, List, java.util.function.IntFunction)}, with the URI each server gets (a token in its query). */
        RawHttp.Response[] pair(String method, java.util.function.IntFunction<String> uri, List<String> headers,
                java.util.function.IntFunction<byte[]> body) throws IOException {
            RawHttp.Response fpm = RawHttp.send(fpmPort(), method, uri.apply(0), withJar(headers, fpmJar), body.apply(0));
            RawHttp.Response ours = RawHttp.send(gatewayPort(), method, uri.apply(1), withJar(headers, ourJar), body.apply(1));
            compare(method + " " + uri.apply(1), fpm, ours);
            keep(fpm, fpmJar);
            keep(ours, ourJar);
            return new RawHttp.Response[] {fpm, ours};
        }

        /** A GET to both servers; PHP-FPM's answer and the gateway's (their pages' tokens, for {@link #submit}). */
        RawHttp.Response[] pages(String uri) throws IOException {
            return pair("GET", uri, List.of(), side -> new byte[0]);
        }

        /** A form to both servers, with the fields each server's own page gave it (its tokens), then {@code more}. */
        RawHttp.Response[] submit(String uri, RawHttp.Response[] pages, List<String> fields, String... more) throws IOException {
            return pair("POST", uri, List.of("Content-Type", "application/x-www-form-urlencoded"), side -> {
                List<String> pairs = new ArrayList<>();
                for (String name : fields) {
                    pairs.addAll(List.of(name, field(pages[side], name)));
                }
                pairs.addAll(List.of(more));
                return form(pairs.toArray(String[]::new)).getBytes(StandardCharsets.UTF_8);
            });
        }

        /** A GET to both, then again with the validators each server gave: 304 from each. */
        RawHttp.Response bothRevalidated(String uri) throws IOException {
            RawHttp.Response[] answers = pair("GET", uri, List.of(), side -> new byte[0]);
            int[] ports = {fpmPort(), gatewayPort()};
            List<Map<String, String>> jars = List.of(fpmJar, ourJar);
            for (int side = 0; side < 2; side++) {
                List<String> validators = new ArrayList<>();
                for (String[] v : new String[][] {{"If-None-Match", "ETag"}, {"If-Modified-Since", "Last-Modified"}}) {
                    if (answers[side].header(v[1]) != null) {
                        validators.addAll(List.of(v[0], answers[side].header(v[1])));
                    }
                }
                RawHttp.Response again = RawHttp.send(ports[side], "GET", uri, withJar(validators, jars.get(side)), new byte[0]);
                if (again.status() != 304) {
                    differences.add("GET " + uri + " with its validators: " + again.status() + " from "
                            + (side == 1 ? "the gateway" : "PHP-FPM") + ", not 304");
                }
            }
            return answers[1];
        }

        private List<String> withJar(List<String> headers, Map<String, String> jar) {
            List<String> all = new ArrayList<>(List.of("Host", HOST));
            List<String> cookies = new ArrayList<>();
            if (fixedCookie() != null) {
                cookies.add(fixedCookie());
            }
            jar.forEach((name, value) -> cookies.add(name + "=" + value));
            if (!cookies.isEmpty()) {
                all.addAll(List.of("Cookie", String.join("; ", cookies)));
            }
            all.addAll(headers);
            return all;
        }

        private void keep(RawHttp.Response response, Map<String, String> jar) {
            String fixed = fixedCookie() == null ? null : fixedCookie().split("=", 2)[0];
            for (String line : response.all("Set-Cookie")) {
                String[] pair = line.split(";")[0].split("=", 2);
                String name = pair[0].strip();
                if (name.equals(fixed)) {
                    continue; // the session id stays the one sent
                }
                if (pair.length < 2 || pair[1].equals("deleted") || line.contains("Max-Age=0")) {
                    jar.remove(name);
                } else {
                    jar.put(name, pair[1].strip());
                }
            }
        }

        /** The value of the form field {@code name} in a page (its input tag's, "" without one). */
        static String field(RawHttp.Response page, String name) {
            Matcher input = Pattern.compile("<input\\b[^>]*\\bname=\"" + Pattern.quote(name) + "\"[^>]*>").matcher(page.text());
            assertThat(input.find()).as("field %s in %s", name, page.text()).isTrue();
            Matcher value = Pattern.compile("\\bvalue=\"([^\"]*)\"").matcher(input.group());
            return value.find() ? value.group(1).replace("&#43;", "+").replace("&amp;", "&") : "";
        }

        static String form(String... pairs) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < pairs.length; i += 2) {
                b.append(b.isEmpty() ? "" : "&").append(java.net.URLEncoder.encode(pairs[i], StandardCharsets.UTF_8))
                        .append('=').append(java.net.URLEncoder.encode(pairs[i + 1], StandardCharsets.UTF_8));
            }
            return b.toString();
        }
    }

    /**
     * One application served both ways, nginx + PHP-FPM and the gateway, for the tests of its class:
     * the servers' start and stop, and the comparison of their answers.
     */
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    abstract static class BothServers {

        private final String app;
        private final String worker;
        private final Map<String, String> env;
        private final Map<String, String> packages;
        private Path dir;
        ConfigurableApplicationContext context;
        private int gatewayPort;
        private int fpmPort;
        /** What differed from PHP-FPM in the current test; emptied before each. */
        final List<String> differences = new ArrayList<>();

        BothServers(String app, String worker, Map<String, String> env, Map<String, String> packages) {
            this.app = app;
            this.worker = worker;
            this.env = env;
            this.packages = packages;
        }

        @BeforeAll
        void start() throws Exception {
            Map<String, String> needed = new LinkedHashMap<>(packages);
            needed.put("php-fpm", "/usr/sbin/php-fpm8.2");
            needed.put("nginx", "/usr/sbin/nginx");
            needed.forEach(BothServers::requirePackage);
            dir = Files.createTempDirectory("folk-compare-" + app + "-");
            for (String sub : List.of("worker/sessions", "worker/tmp", "worker/app-state")) {
                Files.createDirectories(dir.resolve(sub));
            }
            prepare(dir);
            fpmPort = startFpm();
            context = startGateway();
            gatewayPort = ((WebServerApplicationContext) context).getWebServer().getPort();
        }

        /**
         * The Debian package that installs {@code file}: without it the test is skipped, saying
         * which package to install, except under {@code CI=true}, where {@code .ci/run} installs it
         * and its absence fails.
         */
        static void requirePackage(String pkg, String file) {
            if (!Files.isRegularFile(Path.of(file))) {
                String why = file + " not found: apt-get install " + pkg;
                if ("true".equals(System.getenv("CI"))) {
                    throw new AssertionError("CI=true and " + why + " (.ci/run installs it)");
                }
                Assumptions.abort(why);
            }
        }

        int gatewayPort() {
            return gatewayPort;
        }

        /** The directory of this class's servers (their work directories, and what {@link #prepare} puts there). */
        Path dir() {
            return dir;
        }

        /** Called with {@link #dir()} before the servers start: an application that is not in APPS puts its copies there. */
        void prepare(Path dir) throws Exception {
        }

        /** The application PHP-FPM serves (serve.sh's app-dir: its public/ is nginx's root). */
        Path fpmApp() {
            return APPS.resolve(app);
        }

        /** The application the gateway serves: its public/ is the mapping's public-dir. */
        Path gatewayApp() {
            return APPS.resolve(app);
        }

        /** The worker script of the gateway's pool. */
        Path workerScript() {
            return APPS.resolve(worker);
        }

        /** The environment of the gateway's workers beyond the test's own (the application's variables). */
        Map<String, String> workerEnvironment() {
            return env;
        }

        /** What is random or time-dependent in this application's answers, masked on both sides (after {@link #mask}). */
        String maskApp(String value) {
            return value;
        }

        int fpmPort() {
            return fpmPort;
        }

        @BeforeEach
        void forgetDifferences() {
            differences.clear(); // each test asserts its own
        }

        @AfterAll
        void stop() throws Exception {
            try {
                if (context != null) {
                    context.close();
                }
            } finally {
                if (dir != null) {
                    serve("stop", dir.resolve("fpm").toString());
                    org.springframework.util.FileSystemUtils.deleteRecursively(dir);
                }
            }
        }

        /** The PHP settings of the PHP-FPM side, as -d arguments, plus the worker's own directories. */
        List<String> phpArgs() {
            List<String> args = new ArrayList<>();
            try {
                for (String line : Files.readAllLines(FPM.resolve("php-settings.ini"))) {
                    if (!line.isBlank() && !line.startsWith(";")) {
                        args.add("-d");
                        args.add(line.replaceFirst("\\s*=\\s*", "="));
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            args.addAll(List.of("-d", "session.save_path=" + dir.resolve("worker/sessions"),
                    "-d", "upload_tmp_dir=" + dir.resolve("worker/tmp")));
            return args;
        }

        private ConfigurableApplicationContext startGateway() {
            Path appDir = gatewayApp();
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("spring.config.name", "folk-framework-apps-test"); // not the sample's application.yml
            p.put("spring.application.name", "folk-framework-" + app);
            p.put("spring.main.banner-mode", "off");
            p.put("server.address", "127.0.0.1");
            p.put("server.port", "0");
            // As the sample app's application.yml: the raw URI reaches PHP as bytes, and Tomcat accepts
            // the characters browsers leave unencoded (nginx does; Tomcat answers 400 by default).
            p.put("server.tomcat.uri-encoding", "ISO-8859-1");
            p.put("server.tomcat.relaxed-query-chars", RELAXED_QUERY_CHARS);
            p.put("server.tomcat.relaxed-path-chars", RELAXED_PATH_CHARS);
            p.put("server.max-http-request-header-size", "32KB"); // nginx's: 8KB a line, 32KB in all
            List<String> args = phpArgs();
            args.add(workerScript().toString());
            for (int i = 0; i < args.size(); i++) {
                p.put("folk.args[" + i + "]", args.get(i));
            }
            p.put("folk.size", "2");
            // Below a /download's size: it can only arrive in parts (a streamed answer).
            p.put("folk.max-frame-length", "2MB");
            p.put("folk.env[FOLK_WORKER_PHP]", LIBRARY.toString());
            p.put("folk.env[FOLK_APP_STATE]", dir.resolve("worker/app-state").toString());
            p.put("folk.env[TMPDIR]", dir.resolve("worker/tmp").toString());
            p.put("folk.env[FOLK_TEST_RUN]", "sample-app-framework-apps");
            workerEnvironment().forEach((k, v) -> p.put("folk.env[" + k + "]", v));
            p.put("folk.http.mappings[0].path", "/**");
            // What nginx gives PHP-FPM in serve.sh: server_name localhost, and its root (the public
            // directory) as DOCUMENT_ROOT, its index.php as SCRIPT_FILENAME: the public-dir's defaults.
            p.put("folk.http.mappings[0].public-dir", realPath(appDir.resolve("public")).toString()); // serve.sh's root (pwd -P)
            p.put("folk.http.server-name", "localhost");
            p.putAll(gatewayProperties());
            return new SpringApplicationBuilder(GatewayOnly.class).properties(p).run();
        }

        private static Path realPath(Path path) {
            try {
                return path.toRealPath();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private int startFpm() throws Exception {
            for (int attempt = 0; ; attempt++) {
                int port;
                try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                    port = probe.getLocalPort();
                }
                String out = serve("start", fpmApp().toString(), Integer.toString(port),
                        dir.resolve("fpm").toString());
                if (out == null) {
                    return port;
                }
                if (attempt >= 2 || !out.contains("in use")) {
                    throw new AssertionError("serve.sh start failed: " + out);
                }
            }
        }

        /** Settings of the gateway beyond the ones every application gets (as a user would set them for it). */
        Map<String, String> gatewayProperties() {
            return Map.of();
        }

        /** serve.sh's environment for this application: its mode (see serve.sh). */
        Map<String, String> fpmEnvironment() {
            return Map.of();
        }

        /** Runs serve.sh; null if it succeeded, else its output. */
        private String serve(String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of("bash", FPM.resolve("serve.sh").toString()));
            cmd.addAll(List.of(args));
            ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true);
            builder.environment().putAll(fpmEnvironment());
            Process p = builder.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "serve.sh " + String.join(" ", args) + " did not end within 60 s";
            }
            return p.exitValue() == 0 ? null : new String(out, StandardCharsets.UTF_8);
        }

        /**
         * {@code count} requests from {@code requests} (seeded: the same on every run;
         * {@code -Dfolk.compare.seed=N -Dfolk.compare.count=N} run others, or more), each to both
         * servers; asserts the same answers, naming the body of each request that got another.
         */
        void sameForRandom(int count, java.util.function.Function<Random, String> requests) throws IOException {
            Random random = new Random(Long.getLong("folk.compare.seed", 1));
            for (int i = Integer.getInteger("folk.compare.count", count); i > 0; i--) {
                String request = requests.apply(random);
                int before = differences.size();
                sameRaw(request);
                if (differences.size() > before) {
                    differences.add("  (the request: " + request.replace("\r", "\\r").replace("\n", "\\n") + ")");
                }
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /** The same request to both; asserts the same answer and returns the gateway's. */
        RawHttp.Response same(String method, String uri, List<String> headers, byte[] body) throws IOException {
            List<String> all = new ArrayList<>(List.of("Host", HOST));
            all.addAll(headers);
            RawHttp.Response fpm = RawHttp.send(fpmPort, method, uri, all, body);
            RawHttp.Response ours = RawHttp.send(gatewayPort, method, uri, all, body);
            compare(method + " " + uri, fpm, ours);
            return ours;
        }

        /**
         * The same request, as exact bytes (request line, headers, blank line, body; it must end the
         * connection: HTTP/1.0 or {@code Connection: close}), to both; asserts the same answer and
         * returns the gateway's.
         */
        RawHttp.Response sameRaw(String request) throws IOException {
            RawHttp.Response fpm = RawHttp.exchange(fpmPort, ascii(request));
            RawHttp.Response ours = RawHttp.exchange(gatewayPort, ascii(request));
            compare(request.substring(0, request.indexOf('\r')), fpm, ours);
            return ours;
        }

        /**
         * A request that both servers must refuse themselves, before PHP, with {@code status}: their
         * error pages are their own (nginx's HTML, Tomcat's), so only the status is compared.
         */
        void rejectedByBoth(String request, int status) throws IOException {
            int fpm = RawHttp.exchange(fpmPort, ascii(request)).status();
            int ours = RawHttp.exchange(gatewayPort, ascii(request)).status();
            if (fpm != status || ours != status) {
                differences.add(request.substring(0, request.indexOf('\r')) + ": expected both servers to refuse it with "
                        + status + ", got nginx " + fpm + ", gateway " + ours);
            }
        }

        void compare(String what, RawHttp.Response fpm, RawHttp.Response ours) {
            // Each server's own port shows where PHP builds a URL from SERVER_PORT (no Host header).
            Map<String, Object> expected = maskedForApp(comparable(fpm, fpmPort));
            Map<String, Object> actual = maskedForApp(comparable(ours, gatewayPort));
            boolean nginxErrorPage = new String(fpm.body(), StandardCharsets.ISO_8859_1).contains(NGINX_ERROR_PAGE)
                    || what.startsWith("HEAD ") && List.of(405, 412, 416).contains(fpm.status())
                    && "text/html".equals(fpm.header("Content-Type")); // the same, without its body
            if (nginxErrorPage) {
                // nginx's own error page (a 405, 412 or 416 of a file): the status and the other headers count
                for (Map<String, Object> m : List.of(expected, actual)) {
                    m.remove("body");
                    ((Map<?, ?>) m.get("headers")).keySet().removeAll(List.of("content-type", "allow"));
                }
            }
            if (!expected.equals(actual)) {
                differences.add(what + " through the gateway vs PHP-FPM (the reference):\n  FPM:     "
                        + expected + "\n  gateway: " + actual);
            }
        }

        RawHttp.Response same(String method, String uri, String... headers) throws IOException {
            return same(method, uri, List.of(headers), new byte[0]);
        }

        /**
         * A HEAD to both, compared as {@link #same} compares, and its framing too, which other
         * comparisons leave out: the same Content-Length or none, and the same Transfer-Encoding or
         * none, as nginx's (RFC 9110 9.3.2: a HEAD's Content-Length must be the GET's, or absent).
         */
        RawHttp.Response sameHead(String uri) throws IOException {
            List<String> host = List.of("Host", HOST);
            RawHttp.Response fpm = RawHttp.send(fpmPort, "HEAD", uri, host, new byte[0]);
            RawHttp.Response ours = RawHttp.send(gatewayPort, "HEAD", uri, host, new byte[0]);
            compare("HEAD " + uri, fpm, ours);
            for (String name : List.of("Content-Length", "Transfer-Encoding")) {
                if (!ours.all(name).equals(fpm.all(name))) {
                    differences.add("HEAD " + uri + ": " + name + " through the gateway " + ours.all(name)
                            + " vs PHP-FPM's (the reference) " + fpm.all(name));
                }
            }
            return ours;
        }

        @SuppressWarnings("unchecked")
        private Map<String, Object> maskedForApp(Map<String, Object> comparable) {
            ((Map<String, List<String>>) comparable.get("headers")).replaceAll((name, values) -> headerForApp(name,
                    values.stream().map(this::maskApp).collect(Collectors.toList())));
            comparable.put("body", maskApp((String) comparable.get("body")));
            return comparable;
        }

        /** A header's masked values as compared; the application's own nondeterminism taken out, if it has any. */
        List<String> headerForApp(String name, List<String> values) {
            return values;
        }

        /** Status, headers (lower-case names, values in order, server headers left out) and body, masked. */
        static Map<String, Object> comparable(RawHttp.Response r) {
            return comparable(r, -1);
        }

        /** {@link #comparable(RawHttp.Response)}, with the server's port ({@code :1234}) masked too. */
        static Map<String, Object> comparable(RawHttp.Response r, int port) {
            Map<String, List<String>> headers = new TreeMap<>();
            for (String[] h : r.headers()) {
                String name = h[0].toLowerCase(java.util.Locale.ROOT);
                if (!SERVER_HEADERS.contains(name)) {
                    headers.computeIfAbsent(name, k -> new ArrayList<>()).add(maskPort(mask(h[1]), port));
                }
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("status", r.status());
            m.put("headers", headers);
            m.put("body", maskPort(mask(new String(r.body(), StandardCharsets.ISO_8859_1)), port));
            return m;
        }

        private static String maskPort(String value, int port) {
            return port < 0 ? value : value.replace(":" + port, ":<port>");
        }
    }

    /** One of our test applications, served both ways: the random requests any of them takes. */
    abstract static class Compared extends BothServers {

        Compared(String app, String worker, Map<String, String> env, Map<String, String> packages) {
            super(app, worker, env, packages);
        }

        /** Random operations for the application's /session-ops (RandomRequests), comma-separated. */
        abstract String sessionOps(Random random);

        /**
         * Random clients (seeded: -Dfolk.compare.seed, -Dfolk.compare.count) of the application's
         * /session-ops ({@link #sessionOps}), five requests each, with the cookies the previous
         * answers set (one cookie jar per server); every answer compared with PHP-FPM's.
         */
        @Test
        void randomSessionsAnswerLikePhpFpm() throws Exception {
            Random random = new Random(Long.getLong("folk.compare.seed", 1));
            for (int client = Integer.getInteger("folk.compare.count", 150) / 5; client > 0; client--) {
                Map<String, String> fpmJar = new LinkedHashMap<>();
                Map<String, String> ourJar = new LinkedHashMap<>();
                for (int step = 0; step < 5; step++) {
                    String target = "/session-ops?ops=" + sessionOps(random);
                    RawHttp.Response fpm = RawHttp.exchange(fpmPort(), ascii(withCookies(target, fpmJar)));
                    RawHttp.Response ours = RawHttp.exchange(gatewayPort(), ascii(withCookies(target, ourJar)));
                    compare("GET " + target + " (client " + client + ", request " + step + ")", fpm, ours);
                    keepCookies(fpm, fpmJar);
                    keepCookies(ours, ourJar);
                }
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * Random requests for the files beside the front controller (seeded, as above): paths nginx
         * maps to a file or not, any method, conditional and range headers, each answered as nginx
         * answers it.
         */
        @Test
        void randomPublicFileRequestsAnswerLikeNginx() throws Exception {
            Map<String, String[]> validators = publicFileValidators();
            sameForRandom(200, random -> RandomRequests.publicFile(random, HOST, validators));
        }

        /** The ETag and Last-Modified nginx sends for each of RandomRequests' public files, by path. */
        Map<String, String[]> publicFileValidators() throws IOException {
            Map<String, String[]> validators = new LinkedHashMap<>();
            for (String file : RandomRequests.PUBLIC_FILES) {
                RawHttp.Response fpm = RawHttp.send(fpmPort(), "GET", file, List.of("Host", HOST), new byte[0]);
                validators.put(file, new String[] {fpm.header("ETag"), fpm.header("Last-Modified")});
            }
            return validators;
        }

        private static String withCookies(String target, Map<String, String> jar) {
            StringBuilder cookie = new StringBuilder();
            jar.forEach((name, value) -> cookie.append(cookie.isEmpty() ? "" : "; ").append(name).append('=').append(value));
            return "GET " + target + " HTTP/1.1\r\nHost: " + HOST + "\r\n"
                    + (jar.isEmpty() ? "" : "Cookie: " + cookie + "\r\n") + "Connection: close\r\n\r\n";
        }

        /** As a browser keeps them for this path: a cookie for another path is not sent back, a deleted one is dropped. */
        private static void keepCookies(RawHttp.Response response, Map<String, String> jar) {
            for (String line : response.all("Set-Cookie")) {
                String[] attributes = line.split(";");
                String[] pair = attributes[0].split("=", 2);
                String name = pair[0].strip();
                String value = pair.length > 1 ? pair[1].strip() : "";
                boolean thisPath = true;
                boolean expired = value.equals("deleted");
                for (String attribute : attributes) {
                    String a = attribute.strip().toLowerCase(java.util.Locale.ROOT);
                    if (a.startsWith("path=") && !a.equals("path=/")) {
                        thisPath = "/session-ops".startsWith(a.substring(5));
                    }
                    expired |= a.equals("max-age=0") || a.startsWith("expires=thu, 01 jan 1970") || a.startsWith("expires=thu, 01-jan-1970");
                }
                if (!thisPath) {
                    continue;
                }
                if (expired) {
                    jar.remove(name);
                } else {
                    jar.put(name, value);
                }
            }
        }

        /**
         * Random multipart uploads (seeded; {@code -Dfolk.compare.seed=N -Dfolk.compare.count=N} run
         * others, or more), each compared with PHP-FPM's answer: the framework's uploaded files and
         * parsed body ({@link #uploadPaths()}), edge cases of PHP's own RFC 1867 reader included.
         */
        @Test
        void randomUploadsAnswerLikePhpFpm() throws Exception {
            List<String> paths = uploadPaths();
            sameForRandom(150, random -> RandomRequests.upload(random, HOST, paths.get(random.nextInt(paths.size()))));
        }

        /** Where {@link #randomUploadsAnswerLikePhpFpm()} posts: each application's /upload. */
        List<String> uploadPaths() {
            return List.of("/upload");
        }
    }

    /**
     * A framework application's comparison: the routes every test application has (folk-worker-php's
     * apps/README.md), each compared with PHP-FPM's answer.
     */
    abstract static class Served extends Compared {

        Served(String app, String worker, Map<String, String> env, Map<String, String> packages) {
            super(app, worker, env, packages);
        }

        @Test
        void everyRequestAnswersLikePhpFpm() throws Exception {
            RawHttp.Response home = same("GET", "/");
            assertThat(home.status()).isEqualTo(200);
            assertThat(home.text()).contains("Hello from");

            RawHttp.Response json = same("GET", "/json?x=1&y%5B%5D=2&y%5B%5D=3&e=%C3%A9", "Accept", "application/json");
            assertThat(json.text()).contains("\"x\":\"1\"").contains("\"y\":[\"2\",\"3\"]");
            // Browsers send brackets in a query unencoded.
            RawHttp.Response brackets = same("GET", "/json?y[]=2&y[]=3", "Accept", "application/json");
            assertThat(brackets.text()).contains("\"y\":[\"2\",\"3\"]");
            assertThat(same("HEAD", "/").body()).isEmpty();
            assertThat(same("GET", "/json?raw=a|b^c{d}`e\\f").status()).isEqualTo(200);
            assertThat(same("GET", "/nothing[here]|").status()).isEqualTo(404);

            RawHttp.Response form = same("POST", "/form", List.of("Content-Type", "application/x-www-form-urlencoded",
                    "Cookie", "theme=dark; a.b=1"), ascii("name=Ada+Lovelace&tags[]=a&tags[]=b&nested[k]=v&utf=%E2%82%AC"));
            assertThat(form.status()).isEqualTo(200);
            assertThat(form.text()).contains("\"name\":\"Ada Lovelace\"").contains("\"tags\":[\"a\",\"b\"]");

            String boundary = "AppBoundary";
            byte[] upload = multipart(boundary, List.of(
                    new String[] {"title", "holiday"},
                    new String[] {"file", "first\u0000file", "one.bin", "application/octet-stream"},
                    new String[] {"docs[]", "doc a", "a.txt", "text/plain"},
                    new String[] {"docs[]", "doc b", "b.txt", "text/plain"},
                    new String[] {"big", "x".repeat(1024 * 1024 + 10), "big.txt", "text/plain"}));
            RawHttp.Response uploaded = same("POST", "/upload",
                    List.of("Content-Type", "multipart/form-data; boundary=" + boundary), upload);
            assertThat(uploaded.status()).isEqualTo(200);
            assertThat(uploaded.text()).contains(sha1("first\u0000file")).contains(sha1("doc b"))
                    .contains("\"error\":" + 1); // big: UPLOAD_ERR_INI_SIZE

            RawHttp.Response redirect = same("GET", "/redirect");
            assertThat(redirect.status()).isEqualTo(302);
            assertThat(redirect.header("Location")).contains("/json?from=redirect");

            assertThat(same("GET", "/does-not-exist").status()).isEqualTo(404);

            RawHttp.Response failed = same("GET", "/exception");
            assertThat(failed.status()).isEqualTo(500);
            assertThat(failed.text()).doesNotContain("this route always fails");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * What a request changes in the PHP process for itself (the working directory, the C locale,
         * intl's default locale, the environment, error and exception handlers it leaves set) the
         * next request does not see, as under PHP-FPM; and every request starts in the front
         * controller's directory, where PHP-FPM starts it, so that relative paths resolve alike.
         * Every other request changes them; each of the two workers serves several.
         */
        @Test
        void aRequestsChangesToTheProcessAreSetBackLikePhpFpm() throws Exception {
            for (int i = 0; i < 8; i++) {
                RawHttp.Response state = same("GET", i % 2 == 0 ? "/process-state?change" : "/process-state");
                assertThat(state.status()).as("request %d", i).isEqualTo(200);
                assertThat(state.text()).as("request %d", i).contains("\"relative path\":true",
                        "\"error handler of an earlier request\":false", "\"exception handler of an earlier request\":false",
                        "\"environment\":false");
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        @Test
        void aSessionSurvivesTwoRequestsLikePhpFpm() throws Exception {
            List<String> host = List.of("Host", HOST);
            RawHttp.Response fpm1 = RawHttp.send(fpmPort(), "GET", "/session", host, new byte[0]);
            RawHttp.Response ours1 = RawHttp.send(gatewayPort(), "GET", "/session", host, new byte[0]);
            assertThat(comparable(ours1)).as("first /session").isEqualTo(comparable(fpm1));
            String fpmCookie = sessionCookie(fpm1);
            String ourCookie = sessionCookie(ours1);
            assertThat(ourCookie).as("the gateway's answer sets a session cookie").isNotNull();
            assertThat(fpmCookie).as("PHP-FPM's answer sets a session cookie").isNotNull();

            RawHttp.Response fpm2 = RawHttp.send(fpmPort(), "GET", "/session", List.of("Host", HOST, "Cookie", fpmCookie),
                    new byte[0]);
            RawHttp.Response ours2 = RawHttp.send(gatewayPort(), "GET", "/session",
                    List.of("Host", HOST, "Cookie", ourCookie), new byte[0]);
            assertThat(comparable(ours2)).as("second /session").isEqualTo(comparable(fpm2));
            assertThat(ours2.text()).contains("\"count\":2");
        }

        /** Statuses without a body, other statuses, several cookies, empty headers, large and streamed bodies. */
        @Test
        void statusesAndResponseHeadersAnswerLikePhpFpm() throws Exception {
            assertThat(same("GET", "/etag").header("ETag")).isEqualTo("\"v1\"");
            RawHttp.Response notModified = same("GET", "/etag", "If-None-Match", "\"v1\"");
            assertThat(notModified.status()).isEqualTo(304);
            assertThat(notModified.body()).isEmpty();
            // Only the code: nginx sends PHP's reason phrase ("418 Short And Stout"), Tomcat sends none
            // at all (nor "200 OK"); http.handle carries no reason phrase, which clients must ignore anyway
            // (RFC 9112 4).
            assertThat(same("GET", "/teapot").status()).isEqualTo(418);
            RawHttp.Response cookies = same("GET", "/cookies");
            assertThat(cookies.all("Set-Cookie")).hasSizeGreaterThanOrEqualTo(3).anyMatch(c -> c.startsWith("a=1;"));
            assertThat(cookies.header("X-Empty")).isEmpty();
            // Over the gateway's 32 KB direct write: written without blocking.
            RawHttp.Response large = same("GET", "/large");
            assertThat(large.body()).hasSizeGreaterThan(200 * 1000);
            assertThat(same("HEAD", "/large").body()).isEmpty();
            assertThat(same("GET", "/large?kb=2000").body()).hasSizeGreaterThan(2000 * 1000);
            assertThat(same("GET", "/streamed?kb=300").body()).hasSizeGreaterThan(300 * 1000);
            assertThat(same("HEAD", "/streamed").body()).isEmpty();
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * Legacy code's {@code exit()} after setting a status and printing: PHP-FPM sends what was
         * printed, and so does the gateway; the worker said with that answer that it exits, so the pool
         * replaced it without sending it another request (none of the next ones fails).
         */
        @Test
        void exitInTheApplicationAnswersLikePhpFpm() throws Exception {
            ExitCounts before = exitCounts();
            RawHttp.Response exited = same("GET", "/exit");
            assertThat(exited.status()).isEqualTo(403);
            assertThat(exited.text()).isEqualTo("printed, then exit\n");
            for (int i = 0; i < 6; i++) {
                assertThat(same("GET", "/").status()).as("request %d after the exit", i).isEqualTo(200);
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
            before.assertExitedWithoutCrash(1);
        }

        /**
         * Legacy code inside the application calls PHP's own header() and setcookie() beside the
         * framework's response, or redirects with header() and exit, or sets CGI's {@code Status:}
         * header and exits: PHP-FPM sends those lines (the last as the status), and so
         * does the gateway (the worker makes PHP keep header lines as a web SAPI does, see
         * folk-worker-php's CliHeaders). It reads the request's headers with getallheaders(), which
         * PHP-FPM has and the CLI lacks (the worker defines it), and http_response_code(), which a CLI
         * process keeps from one request to the next.
         */
        @Test
        void legacyHeaderCallsAnswerLikePhpFpm() throws Exception {
            RawHttp.Response headers = same("GET", "/legacy-headers");
            assertThat(headers.status()).isEqualTo(200);
            assertThat(headers.header("X-Legacy")).isEqualTo("set with header()");
            assertThat(headers.all("Set-Cookie")).anySatisfy(c -> assertThat(c).startsWith("legacy=set%20with%20setcookie%28%29"));
            assertThat(headers.all("X-Legacy-Twice")).containsExactly("one", "two");
            RawHttp.Response redirect = same("GET", "/legacy-redirect");
            assertThat(redirect.status()).isEqualTo(302);
            assertThat(redirect.header("Location")).isEqualTo("/json?from=legacy");
            // CGI's "Status:" header, which PHP-FPM answers with (and does not pass on as a header).
            RawHttp.Response status = same("GET", "/legacy-status");
            assertThat(status.status()).isEqualTo(404);
            assertThat(status.all("Status")).isEmpty();
            // getallheaders(), which the CLI lacks: PHP-FPM's names and order (a repeated header is joined,
            // see repeatedRequestHeadersAreJoinedAsNginxDoes).
            // Each request starts at status 200, whatever the previous one set (5 requests: one of the two
            // workers serves at least two).
            for (int i = 0; i < 5; i++) {
                RawHttp.Response request = same("GET", "/legacy-request-headers", "X-Api-Key", "k1", "x-forwarded-for",
                        "10.0.0.1", "Authorization", "Bearer t", "accept-language", "fr");
                assertThat(request.status()).isEqualTo(200);
                assertThat(request.text()).contains("\"status at the start\":200", "\"X-Api-Key\":\"k1\"",
                        "\"Authorization\":\"Bearer t\"", "\"Accept-Language\":\"fr\"",
                        "\"apache_request_headers is the same\":true");
            }
            assertThat(same("GET", "/").status()).isEqualTo(200);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * fastcgi_finish_request() in legacy code: PHP-FPM sends what was printed so far, with the
         * headers set so far, and ends the response; what the script prints, sets or returns
         * afterwards goes nowhere. The worker does the same (folk-worker-php's StreamedBody::finish(),
         * which ends the streamed answer while the script goes on).
         */
        @Test
        void fastcgiFinishRequestAnswersLikePhpFpm() throws Exception {
            RawHttp.Response finished = same("GET", "/legacy-finish");
            assertThat(finished.status()).isEqualTo(200);
            assertThat(finished.text()).isEqualTo("printed before fastcgi_finish_request()\n");
            assertThat(finished.header("X-Before-Finish")).isEqualTo("yes");
            assertThat(finished.all("X-After-Finish")).isEmpty();
            assertThat(same("GET", "/").status()).as("the worker serves on").isEqualTo(200);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * A shutdown function the request registers, which sends a header and prints: PHP-FPM runs it
         * when the script ends and sends what it prints, unless the application ended the request
         * first (Symfony's and Laravel's send() call fastcgi_finish_request(), Slim's emitter does
         * not); its header counts only while nothing was sent (a response without a body).
         */
        @Test
        void shutdownFunctionsAnswerLikePhpFpm() throws Exception {
            for (String path : List.of("/shutdown-output", "/shutdown-output?empty=1", "/shutdown-output")) {
                assertThat(same("GET", path).status()).as(path).isEqualTo(200);
            }
            assertThat(same("GET", "/").status()).as("the worker serves on").isEqualTo(200);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * A download larger than the pool's frame limit (2 MB here), printed row by row and flushed
         * as export code does: PHP-FPM sends it while the script prints it; the worker sends it in
         * parts (folk-worker-php's StreamedBody), which the gateway writes as they come. One answer
         * that size would be over the limit, and a 502.
         */
        @Test
        void aDownloadLargerThanTheFrameLimitAnswersLikePhpFpm() throws Exception {
            RawHttp.Response download = same("GET", "/download?kb=5000");
            assertThat(download.status()).isEqualTo(200);
            assertThat(download.body()).hasSizeGreaterThan(5000 * 1024);
            assertThat(download.text()).startsWith("00000000,aaaa").endsWith("end\n");
            assertThat(sameHead("/download?kb=5000").body()).isEmpty();
            assertThat(same("GET", "/").status()).as("the worker serves on").isEqualTo(200);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * The same download with its size declared first ({@code header('Content-Length: ...')}, as
         * scripts serving a file do): nginx passes PHP-FPM's Content-Length on, so the client knows
         * the size before the body (a browser's progress, a download manager); so does the gateway,
         * although the answer reaches it in parts. Content-Length is otherwise left out of the
         * comparisons (each server frames small answers its own way).
         */
        @Test
        void aDownloadOfDeclaredSizeGoesOutWithItsContentLengthLikePhpFpm() throws Exception {
            RawHttp.Response ours = same("GET", "/download?kb=3000&sized=1");
            RawHttp.Response fpm = RawHttp.send(fpmPort(), "GET", "/download?kb=3000&sized=1", List.of("Host", HOST),
                    new byte[0]);
            assertThat(ours.status()).isEqualTo(200);
            assertThat(fpm.all("Content-Length")).as("PHP-FPM's").containsExactly(String.valueOf(fpm.body().length));
            assertThat(ours.all("Content-Length")).containsExactly(String.valueOf(ours.body().length));
            assertThat(ours.all("Transfer-Encoding")).isEmpty();
            assertThat(ours.body()).hasSizeGreaterThan(3000 * 1024);
            sameHead("/download?kb=3000&sized=1"); // the size PHP declared, where the framework keeps it for a HEAD
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * A download script that closes every output buffer before it prints the file
         * ({@code while (ob_get_level()) ob_end_clean(); readfile($file);}): PHP hands the bytes to
         * its SAPI past all buffers, which PHP-FPM sends to the client and a CLI process writes to
         * its stdout, the log (folk-worker-php's UnbufferedOutput sends them on). Under the frame
         * limit and over it, with its declared size too.
         */
        @Test
        void aDownloadPrintedPastEveryOutputBufferAnswersLikePhpFpm() throws Exception {
            RawHttp.Response small = same("GET", "/download?kb=20&closed=1");
            assertThat(small.status()).isEqualTo(200);
            assertThat(small.text()).startsWith("00000000,aaaa").endsWith("end\n");
            RawHttp.Response large = same("GET", "/download?kb=3000&closed=1");
            assertThat(large.body()).hasSizeGreaterThan(3000 * 1024);
            assertThat(large.text()).endsWith("end\n");
            RawHttp.Response sized = same("GET", "/download?kb=3000&sized=1&closed=1");
            assertThat(sized.all("Content-Length")).containsExactly(String.valueOf(sized.body().length));
            assertThat(same("GET", "/").status()).as("the worker serves on").isEqualTo(200);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * A file the framework sends (Symfony's BinaryFileResponse, Laravel's download(), a PSR-7
         * stream over a file): 3 MiB, so it streams through the gateway. Same bytes, same
         * validators and the same Content-Length or none as PHP-FPM, for a GET and for a HEAD
         * (download managers ask a HEAD for the size); a byte range as the framework answers it.
         */
        @Test
        void aFileTheFrameworkSendsAnswersLikePhpFpm() throws Exception {
            RawHttp.Response ours = same("GET", "/file");
            RawHttp.Response fpm = RawHttp.send(fpmPort(), "GET", "/file", List.of("Host", HOST), new byte[0]);
            assertThat(ours.status()).isEqualTo(200);
            assertThat(ours.body()).hasSize(3 * 1024 * 1024);
            assertThat(ours.all("Content-Length")).as("as PHP-FPM's, where the framework set one")
                    .isEqualTo(fpm.all("Content-Length"));
            same("GET", "/file", "Range", "bytes=100-199");
            RawHttp.Response head = sameHead("/file");
            RawHttp.Response fpmHead = RawHttp.send(fpmPort(), "HEAD", "/file", List.of("Host", HOST), new byte[0]);
            assertThat(head.all("Content-Length")).as("the size a HEAD announces, as PHP-FPM's")
                    .isEqualTo(fpmHead.all("Content-Length"));
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * Legacy API code reads the body with php://input (`json_decode(file_get_contents(
         * 'php://input'))`): PHP-FPM gives it the body, twice if read twice, and nothing for a
         * multipart body PHP parsed; so does the worker (it gives PHP the body's stream, see
         * folk-worker-php's RequestBody), where a CLI process would read nothing.
         */
        @Test
        void legacyCodeReadsTheBodyFromPhpInputLikePhpFpm() throws Exception {
            RawHttp.Response json = same("POST", "/legacy-input", List.of("Content-Type", "application/json"),
                    ascii("{\"order\":42,\"items\":[\"a\",\"b\"]}"));
            assertThat(json.status()).isEqualTo(200);
            assertThat(json.text()).contains("\"read again\":true", "\"length\":30", "\"order\":42");
            RawHttp.Response form = same("POST", "/legacy-input", List.of("Content-Type",
                    "application/x-www-form-urlencoded"), ascii("a=1&b=two"));
            assertThat(form.text()).contains("\"read\":\"a=1&b=two\"");
            String boundary = "InputBoundary";
            RawHttp.Response multipart = same("POST", "/legacy-input", List.of("Content-Type",
                    "multipart/form-data; boundary=" + boundary), multipart(boundary, List.<String[]>of(new String[] {"f", "v"})));
            assertThat(multipart.text()).contains("\"length\":0");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * Plain PHP upload code on $_FILES: is_uploaded_file() and move_uploaded_file() take the
         * request's own files (and no other), the moved file keeps its content and is gone from
         * where it was, as under PHP-FPM. A CLI process lists no uploads of its own: the worker lists
         * them for PHP (Bridge\UploadedFiles), or move_uploaded_file() would say no and the upload
         * would be lost.
         */
        @Test
        void legacyUploadCodeMovesFilesLikePhpFpm() throws Exception {
            String boundary = "LegacyBoundary";
            byte[] upload = multipart(boundary, List.of(
                    new String[] {"photo", "not\u0000really a photo", "photo.jpg", "image/jpeg"},
                    new String[] {"notes", "some notes", "notes.txt", "text/plain"}));
            RawHttp.Response moved = same("POST", "/legacy-upload",
                    List.of("Content-Type", "multipart/form-data; boundary=" + boundary), upload);
            assertThat(moved.status()).isEqualTo(200);
            assertThat(moved.text()).contains(sha1("not\u0000really a photo"), sha1("some notes"))
                    .contains("\"uploaded\":true,\"moved\":true,\"still uploaded\":false,\"left where it was\":false")
                    .doesNotContain("\"moved\":false").contains("\"this script\":false");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * Fatal errors no error handler can catch (memory exhausted; a function declared twice, a compile
         * error): PHP-FPM answers what PHP and the framework make of them (500, display_errors being off;
         * Laravel renders its error page in a shutdown function), and so does the gateway: the worker
         * answers the call before its process ends, and says it exits, so the pool replaces it and none
         * of the next requests fails.
         */
        @Test
        void fatalErrorsAnswerLikePhpFpm() throws Exception {
            ExitCounts before = exitCounts();
            for (String path : List.of("/fatal-memory", "/fatal-compile", "/fatal-memory-page")) {
                assertThat(same("GET", path).status()).as(path).isEqualTo(500);
                for (int i = 0; i < 3; i++) {
                    assertThat(same("GET", "/").status()).as("request %d after %s", i, path).isEqualTo(200);
                }
            }
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
            before.assertExitedWithoutCrash(3);
        }

        /** The default pool's exited and crashed counts now. */
        ExitCounts exitCounts() {
            WorkerPool pool = context.getBean(FolkPools.class).get("default");
            return new ExitCounts(pool, pool.snapshot().exits().get(ExitReason.EXITED), pool.snapshot().exits().get(ExitReason.CRASH));
        }

        /** Exit counts taken before a test's requests. */
        record ExitCounts(WorkerPool pool, long exited, long crashed) {
            /** Waits until {@code n} more workers are recorded as exited (they said so), and none crashed. */
            void assertExitedWithoutCrash(int n) {
                Procs.await(Duration.ofSeconds(10), n + " more workers recorded as exited",
                        () -> pool.snapshot().exits().get(ExitReason.EXITED) >= exited + n);
                assertThat(pool.snapshot().exits()).as("exits recorded as exited, none as a crash")
                        .containsEntry(ExitReason.EXITED, exited + n).containsEntry(ExitReason.CRASH, crashed);
            }
        }

        /**
         * {@code dump()} in a controller prints VarDumper's HTML into the page, its stylesheet and script
         * in every page that dumps (PHP-FPM starts each request afresh), and {@code dd()} answers 500 with
         * the dump; a worker runs on the CLI SAPI, for which VarDumper would pick its text dumper and
         * write to the worker's stdout (the log), leaving a blank page. Status and body as PHP-FPM's.
         * The headers differ as folk-worker-php's README says: PHP-FPM sends its headers with the dump,
         * before the response exists, and loses the application's (its session cookie, its
         * Cache-Control); the gateway sends the response's own headers.
         */
        @Test
        void dumpAndDdPrintIntoThePageLikePhpFpm() throws Exception {
            for (int i = 0; i < 2; i++) { // the second page needs the stylesheet and script again
                RawHttp.Response dumped = sameStatusAndBody("/dump");
                assertThat(dumped.status()).isEqualTo(200);
                assertThat(dumped.text()).contains("Sfdump = window.Sfdump").contains("<pre class=sf-dump ")
                        .contains("after dump\n"); // after the dump, or before it (Slim appends what a route printed)
            }
            RawHttp.Response dd = same("GET", "/dd");
            assertThat(dd.status()).isEqualTo(500);
            assertThat(dd.text()).contains("Sfdump = window.Sfdump").contains("<pre class=sf-dump ");
            assertThat(same("GET", "/").status()).isEqualTo(200);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * The same GET to both; asserts the same status and body, and that the gateway sends every
         * header PHP-FPM sent (and possibly more: see {@link #dumpAndDdPrintIntoThePageLikePhpFpm()}).
         */
        @SuppressWarnings("unchecked")
        RawHttp.Response sameStatusAndBody(String uri) throws IOException {
            List<String> host = List.of("Host", HOST);
            Map<String, Object> fpm = comparable(RawHttp.send(fpmPort(), "GET", uri, host, new byte[0]), fpmPort());
            RawHttp.Response ours = RawHttp.send(gatewayPort(), "GET", uri, host, new byte[0]);
            Map<String, Object> actual = comparable(ours, gatewayPort());
            assertThat(actual.get("status")).as("GET %s: status", uri).isEqualTo(fpm.get("status"));
            assertThat(actual.get("body")).as("GET %s: body", uri).isEqualTo(fpm.get("body"));
            assertThat((Map<String, List<String>>) actual.get("headers")).as("GET %s: headers", uri)
                    .containsAllEntriesOf((Map<String, List<String>>) fpm.get("headers"));
            return ours;
        }

        /**
         * The files beside the front controller (public/css/app.css, public/robots.txt), as nginx's
         * {@code try_files $uri} answers them: type, validators, 304s, a byte range, HEAD; a missing
         * file and a .php path are the application's.
         */
        @Test
        void publicFilesAnswerLikeNginx() throws Exception {
            RawHttp.Response css = same("GET", "/css/app.css");
            assertThat(css.status()).isEqualTo(200);
            assertThat(css.header("Content-Type")).isEqualTo("text/css");
            assertThat(css.text()).startsWith("/* served as a file, not by PHP */");
            String etag = css.header("ETag");
            assertThat(etag).as("an ETag").isNotNull();
            assertThat(sameHead("/css/app.css").body()).isEmpty();
            assertThat(same("GET", "/css/app.css", "If-None-Match", etag).status()).isEqualTo(304);
            assertThat(same("GET", "/css/app.css", "If-Modified-Since", css.header("Last-Modified")).status())
                    .isEqualTo(304);
            assertThat(same("GET", "/css/app.css", "If-Unmodified-Since", "Fri, 00 Jan 2100 00:00:00 GMT").status())
                    .as("a day 00 is the day before the month's first for nginx, not a date it cannot read").isEqualTo(200);
            RawHttp.Response part = same("GET", "/robots.txt", "Range", "bytes=0-9");
            assertThat(part.status()).isEqualTo(206);
            assertThat(part.text()).isEqualTo("User-agent");
            assertThat(same("GET", "/robots.txt", "Range", "bytes=-9").text()).isEqualTo("private/\n");
            assertThat(same("GET", "/robots.txt").text()).startsWith("User-agent: *");
            assertThat(same("GET", "/css/missing.css").status()).isEqualTo(404);
            same("GET", "/index.php");
            assertThat(differences).as("every answer equal to nginx's").isEmpty();
        }

        /**
         * nginx sends no Content-Type with a 204 (its header filter drops it, and Content-Length), whatever
         * PHP set; Tomcat would write the one the gateway gives it (it leaves it out of a 304 only), so
         * the gateway gives none.
         */
        @Test
        void aNoContentAnswerHasNoContentTypeLikeNginx() throws Exception {
            RawHttp.Response noContent = same("GET", "/no-content");
            assertThat(noContent.status()).isEqualTo(204);
            assertThat(noContent.body()).isEmpty();
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /**
         * HEADs of the application's pages, which PHP answers without a length (the framework leaves
         * the body out): no Content-Length, as nginx sends none, rather than a 0 that the GET does
         * not have; and no chunked framing either. (The tests of downloads, of a file the framework
         * sends and of public files compare their HEADs' framing too.)
         */
        @Test
        void aHeadHasTheGetsLengthOrNoneLikePhpFpm() throws Exception {
            RawHttp.Response page = sameHead("/");
            assertThat(page.status()).isEqualTo(200);
            assertThat(page.body()).isEmpty();
            assertThat(same("GET", "/").body()).as("the page a GET gets").isNotEmpty();
            assertThat(page.all("Content-Length")).as("PHP declared none for the page").isEmpty();
            sameHead("/json?x=1");
            sameHead("/nothing");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /** Query strings and paths reach PHP as sent; request targets in absolute form; HTTP/1.0; no Host. */
        @Test
        void requestTargetsAnswerLikePhpFpm() throws Exception {
            // Keys without "=", empty values, an empty key (parse_str drops it).
            assertThat(same("GET", "/json?a&b=&=c&d").text()).contains("\"a\":\"\"").contains("\"b\":\"\"");
            // "+" and %20 are spaces in a query, %2B a plus.
            assertThat(same("GET", "/json?p=1+2&q=1%202&r=1%2B2&s=%26%3D&t=%").text()).contains("\"p\":\"1 2\"")
                    .contains("\"r\":\"1+2\"");
            same("GET", "/json?a=1&a=2&b[]=&c[x]=y&d[=1");
            // Path parameters and dot segments: PHP gets REQUEST_URI as sent and routes on it.
            same("GET", "/json;v=1?x=1");
            same("GET", "/x/../json?x=1");
            same("GET", "/json/.?x=1");
            same("GET", "/json%2Fx?x=1");
            same("GET", "/json%5Cx?x=1"); // a backslash in a file name, as WebDAV clients send it
            same("GET", "/json{x}`<\"y\">?x=1"); // unencoded, as scripts and curl send them
            // Absolute form (RFC 9112 3.2.2): as sent by a client talking to a proxy.
            sameRaw("GET http://app.test/json?x=1 HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
            // HTTP/1.0, with and without Host (optional in 1.0): both answer HTTP/1.1, close-delimited.
            assertThat(sameRaw("GET /json?x=1 HTTP/1.0\r\nHost: app.test\r\n\r\n").status()).isEqualTo(200);
            assertThat(sameRaw("GET /json?x=1 HTTP/1.0\r\n\r\n").status()).isEqualTo(200);
            sameRaw("HEAD / HTTP/1.0\r\nHost: app.test\r\n\r\n");
            // Refused by the servers themselves, before PHP: HTTP/1.1 without Host (RFC 9112 3.2 says 400),
            // a path climbing above the root.
            rejectedByBoth("GET /json HTTP/1.1\r\nConnection: close\r\n\r\n", 400);
            rejectedByBoth("GET /../json HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n", 400);
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        /** Request bodies in other shapes: chunked, empty with Content-Length: 0. */
        @Test
        void requestBodiesAnswerLikePhpFpm() throws Exception {
            // A chunked form, a chunk boundary inside an escape.
            RawHttp.Response chunked = sameRaw("POST /form HTTP/1.1\r\nHost: app.test\r\n"
                    + "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n"
                    + "Connection: close\r\n\r\n" + "7\r\nname=Ad\r\n6\r\na&x=%4\r\n1\r\n1\r\n0\r\n\r\n");
            assertThat(chunked.text()).contains("\"name\":\"Ada\"").contains("\"x\":\"A\"");
            // An empty form: Content-Length: 0.
            same("POST", "/form", List.of("Content-Type", "application/x-www-form-urlencoded"), new byte[0]);
            same("POST", "/form", List.of(), new byte[0]);
            // JSON, chunked and not.
            byte[] json = ascii("{\"name\":\"Ada\",\"tags\":[1,2]}");
            same("POST", "/form", List.of("Content-Type", "application/json"), json);
            sameRaw("POST /form HTTP/1.1\r\nHost: app.test\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + Integer.toHexString(json.length)
                    + "\r\n" + new String(json, StandardCharsets.ISO_8859_1) + "\r\n0\r\n\r\n");
            assertThat(differences).as("every answer equal to PHP-FPM's").isEmpty();
        }

        private static String sessionCookie(RawHttp.Response r) {
            for (String v : r.all("Set-Cookie")) {
                Matcher m = Pattern.compile("^(PHPSESSID|FOLKSESSID|laravel_session)=[^;]+").matcher(v);
                if (m.find()) {
                    return m.group();
                }
            }
            return null;
        }
    }

    /** The starter's auto-configuration and Spring MVC, nothing of the sample app. */
    @TestConfiguration(proxyBeanMethods = false) // test configuration: no other test's component scan picks it up
    @EnableAutoConfiguration
    static class GatewayOnly {
        /** As the sample app: a %2F in a path and over 100 header lines reach PHP (Tomcat's default answers 400; nginx passes them on). */
        @Bean
        TomcatConnectorCustomizer asNginx() {
            return SampleApplication.tomcatAsNginx();
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** A multipart/form-data body: parts are {name, value} or {name, content, filename, type}. */
    static byte[] multipart(String boundary, List<String[]> parts) {
        StringBuilder b = new StringBuilder();
        for (String[] part : parts) {
            b.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(part[0])
                    .append('"');
            if (part.length > 2) {
                b.append("; filename=\"").append(part[2]).append("\"\r\nContent-Type: ").append(part[3]);
            }
            b.append("\r\n\r\n").append(part[1]).append("\r\n");
        }
        b.append("--").append(boundary).append("--\r\n");
        return ascii(b.toString());
    }

    static String sha1(String s) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-1").digest(ascii(s));
            return java.util.HexFormat.of().formatHex(d);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
