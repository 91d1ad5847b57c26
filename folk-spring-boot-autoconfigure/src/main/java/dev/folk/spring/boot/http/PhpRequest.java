package dev.folk.spring.boot.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import jakarta.servlet.http.HttpServletRequest;

import org.jspecify.annotations.Nullable;

import dev.folk.core.protocol.WireMap;

/**
 * The {@code http.handle} params for one request: what a FastCGI server gives PHP.
 *
 * <p>Bytes stay bytes. The servlet container decodes header values and the request URI as
 * ISO-8859-1 (one char per byte), so a text that is all ASCII goes to PHP as a str and any other
 * goes as the exact bytes the client sent (a msgpack bin, which PHP reads as a string like any
 * other): nothing is decoded or re-encoded on the way.
 *
 * <p>{@code header_list} keeps every header line; the Servlet API gives lines grouped by name (in
 * the order each name first appeared, with the spelling of that first line), so lines of the
 * same name stay in order among themselves, not among other names.
 *
 * <p>Headers whose names are not letters, digits and {@code -} are left out, as nginx leaves them
 * out by default ({@code ignore_invalid_headers on}, {@code underscores_in_headers off}): PHP
 * names a header {@code HTTP_} plus its name upper-cased with {@code -} made {@code _}, so a
 * client's {@code X_Forwarded_For} would otherwise reach PHP as {@code HTTP_X_FORWARDED_FOR},
 * joined to (or standing in for) the {@code X-Forwarded-For} a proxy in front set.
 */
final class PhpRequest {

    static final byte[] NO_BODY = new byte[0];

    private PhpRequest() {
    }

    /** The raw request-target: path and query exactly as sent. */
    static String uri(HttpServletRequest request) {
        String query = request.getQueryString();
        String path = request.getRequestURI();
        return query == null ? path : path + '?' + query;
    }

    /**
     * Whether the request has a body to read. In HTTP/1.x (RFC 9112 6.3) a Content-Length or a
     * Transfer-Encoding says so, and a request with neither has none (most GETs). HTTP/2 and HTTP/3
     * frame the body themselves and need no Content-Length for it: there only the end of the
     * request's stream tells a body of unknown length from none.
     *
     * @param length the request's Content-Length, -1 without one
     */
    static boolean hasBody(HttpServletRequest request, long length) throws IOException {
        if (length >= 0) {
            return length > 0;
        }
        if (request.getHeader("Transfer-Encoding") != null) {
            return true;
        }
        return !request.getProtocol().startsWith("HTTP/1.") && !request.getInputStream().isFinished();
    }

    static boolean isHead(HttpServletRequest request) {
        return "HEAD".equals(request.getMethod());
    }

    /**
     * Who the application's security (Spring Security, the container's) authenticated the request
     * as. Taken on the thread the filter chain runs on: Spring Security's request wrapper reads the
     * user from that thread's security context, which is gone once the chain has returned (a body
     * is read, and its call made, later and on another thread).
     */
    record SignedIn(String user, @Nullable String authType) {

        static @Nullable SignedIn of(HttpServletRequest request) {
            String user = request.getRemoteUser();
            return user == null ? null : new SignedIn(user, request.getAuthType());
        }
    }

    /**
     * An address as nginx gives it to PHP-FPM: IPv6 in its short form ({@code ::1}, RFC 5952), where
     * the container gives the full one ({@code 0:0:0:0:0:0:0:1}) and Spring's ForwardedHeaderFilter
     * a bracketed one ({@code [::1]}) for a forwarded IPv6 client; an IPv4 address forwarded with a
     * port ({@code X-Forwarded-For: 203.0.113.7:5555}) without it. PHP code compares and validates
     * these ({@code filter_var(..., FILTER_VALIDATE_IP)}, {@code in_array($ip, ['127.0.0.1', '::1'])}).
     */
    static String address(@Nullable String address) {
        if (address == null || address.indexOf(':') < 0) {
            return address == null ? "" : address; // IPv4, the common case: as it is
        }
        String a = address;
        if (a.startsWith("[")) {
            int end = a.indexOf(']');
            a = end < 0 ? a.substring(1) : a.substring(1, end);
        }
        int colon = a.indexOf(':');
        if (colon > 0 && a.indexOf('.') > 0 && a.indexOf(':', colon + 1) < 0) {
            return a.substring(0, colon); // IPv4 with a port
        }
        return shortIpv6(a);
    }

    /** {@code a} in RFC 5952's form if it is eight groups of hex digits (a zone id dropped, as nginx drops it); else as it is. */
    private static String shortIpv6(String a) {
        int zone = a.indexOf('%');
        String[] groups = (zone < 0 ? a : a.substring(0, zone)).split(":", -1);
        if (groups.length != 8) {
            return a; // already short, or not an address
        }
        int[] values = new int[8];
        for (int i = 0; i < 8; i++) {
            if (groups[i].isEmpty() || groups[i].length() > 4) {
                return a;
            }
            try {
                values[i] = Integer.parseInt(groups[i], 16);
            } catch (NumberFormatException e) {
                return a;
            }
        }
        int bestStart = -1;
        int bestLength = 1; // a single zero group is not shortened
        for (int i = 0; i < 8; i++) {
            int j = i;
            while (j < 8 && values[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = Math.max(i, j);
        }
        StringBuilder out = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append(i == 0 ? "::" : ":");
                i += bestLength - 1;
                continue;
            }
            out.append(Integer.toHexString(values[i]));
            if (i < 7) {
                out.append(':');
            }
        }
        return out.toString();
    }

    /** An HTTP/2 request's :authority as the container parsed it: the port only where it is not the scheme's. */
    private static String authority(HttpServletRequest request) {
        int port = request.getServerPort();
        boolean defaultPort = port <= 0 || (port == 80 && !request.isSecure()) || (port == 443 && request.isSecure());
        String name = request.getServerName();
        String host = name.indexOf(':') >= 0 && !name.startsWith("[") ? '[' + name + ']' : name; // an IPv6 literal
        return defaultPort ? host : host + ':' + port;
    }

    /**
     * @param body     the body read, or null for a request without one ({@link #hasBody})
     * @param signedIn {@link SignedIn#of} the request, taken while the filter chain ran
     */
    static Map<String, Object> params(HttpServletRequest request, HttpRoute route, GatewayOptions options,
                                      String uri, byte @Nullable [] body, @Nullable SignedIn signedIn) {
        Map<String, Object> headers = new LinkedHashMap<>();
        List<Object> headerList = new ArrayList<>();
        Enumeration<String> names = request.getHeaderNames();
        while (names.hasMoreElements()) {
            String name = names.nextElement();
            if (!isPlainName(name)) {
                continue;
            }
            Enumeration<String> values = request.getHeaders(name);
            String first = values.hasMoreElements() ? values.nextElement() : "";
            headerList.add(List.of(name, raw(first)));
            if (!values.hasMoreElements()) {
                headers.put(name, raw(first));
                continue;
            }
            StringBuilder joined = new StringBuilder(first);
            String separator = name.equalsIgnoreCase("cookie") ? "; " : ", ";
            while (values.hasMoreElements()) {
                String v = values.nextElement();
                headerList.add(List.of(name, raw(v)));
                joined.append(separator).append(v);
            }
            headers.put(name, raw(joined.toString()));
        }
        if (!headers.containsKey("host") && !headers.containsKey("Host") && request.getHeader("host") == null
                && !request.getProtocol().startsWith("HTTP/1.")) {
            // HTTP/2 and 3 carry the host as :authority, which the container takes for the server name
            // and port but does not pass on as a header: nginx gives PHP a Host from it (HTTP_HOST).
            String host = authority(request);
            headerList.add(0, List.of("host", host));
            headers.put("host", host);
        }

        String method = request.getMethod();
        Object rawUri = raw(uri);
        String path = request.getRequestURI();
        String query = request.getQueryString();
        String scriptName = "";
        String pathInfo = path;
        // The context path is where the application is mounted, as a location with an alias in nginx:
        // always PHP's SCRIPT_NAME, as the files of the public directory are named below it.
        String context = StaticFiles.contextPath(request);
        String prefix = route.stripPrefix() ? context + route.prefix() : context;
        if (!prefix.isEmpty()) {
            int rest = HttpRoute.under(path, prefix) && plain(path, prefix.length()) ? prefix.length()
                    : afterPrefix(path, prefix);
            if (rest >= 0) {
                scriptName = prefix;
                pathInfo = path.substring(rest);
            }
        }

        Map<String, Object> server = new LinkedHashMap<>(32); // linked: the codec iterates it without scanning buckets
        server.put("REMOTE_ADDR", address(request.getRemoteAddr()));
        server.put("REMOTE_PORT", Integer.toString(request.getRemotePort()));
        server.put("SERVER_ADDR", address(request.getLocalAddr()));
        server.put("SERVER_NAME", options.serverName() != null ? options.serverName() : request.getServerName());
        server.put("SERVER_PORT", Integer.toString(request.getServerPort()));
        server.put("SERVER_PROTOCOL", request.getProtocol());
        server.put("REQUEST_SCHEME", request.getScheme());
        if (request.isSecure()) {
            server.put("HTTPS", "on");
        }
        server.put("REQUEST_METHOD", method);
        server.put("REQUEST_URI", rawUri);
        server.put("QUERY_STRING", query == null ? "" : raw(query));
        // Decoded (the context path and the mapping's prefix), as nginx gives it: UTF-8, where the
        // rest of the URI's facts are its bytes as sent.
        server.put("SCRIPT_NAME", utf8(scriptName));
        server.put("PATH_INFO", raw(pathInfo));
        String contentType = request.getHeader("Content-Type");
        if (contentType != null) {
            server.put("CONTENT_TYPE", raw(contentType));
        }
        if (body != null || request.getHeader("Content-Length") != null) {
            // The length read, which is the header's for a Content-Length body and the total of a chunked one
            // (or of an HTTP/2 body sent without Content-Length): nginx gives PHP-FPM that total once it has
            // read such a body, "0" for an empty one.
            server.put("CONTENT_LENGTH", Integer.toString(body == null ? 0 : body.length));
        }
        // Who the application's security (Spring Security, the container's) authenticated, as a web
        // server that checked the credentials passes it: PHP applications that trust the server's
        // login read REMOTE_USER. Never the client's unchecked claim.
        if (signedIn != null) {
            server.put("REMOTE_USER", utf8(signedIn.user()));
            if (signedIn.authType() != null) {
                server.put("AUTH_TYPE", utf8(signedIn.authType()));
            }
        }
        server.put("DOCUMENT_ROOT", route.documentRoot(options));
        server.put("SCRIPT_FILENAME", route.scriptFilename(options));
        server.put("GATEWAY_INTERFACE", "folk/1");
        // RFC 3875's required server product, which nginx gives PHP-FPM too: applications read it to
        // tell servers apart (WordPress looks for "nginx" or "Apache" in it, and warns without one).
        server.put("SERVER_SOFTWARE", options.serverSoftware());

        // Strings, byte[], lists and maps of them only: the pool sends it without asking its value mapper.
        Map<String, Object> params = new WireMap(7);
        params.put("method", method);
        params.put("uri", rawUri);
        params.put("headers", headers);
        params.put("body", body == null ? NO_BODY : body);
        params.put("header_list", headerList);
        params.put("server", server);
        params.put("stream", Boolean.TRUE); // the answer may come in parts (DirectStream, GatewayExchange)
        return params;
    }

    /** Letters, digits and '-' only: the header names nginx passes on to PHP-FPM by default. */
    static boolean isPlainName(String name) {
        if (name.isEmpty()) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** A Java string (not bytes read from the request) as PHP reads text: UTF-8, the string itself if ASCII. */
    private static Object utf8(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                return s.getBytes(StandardCharsets.UTF_8);
            }
        }
        return s;
    }

    /**
     * Where the raw path {@code path} goes on past {@code prefix} when it spells the prefix otherwise
     * ({@code //m/x}, {@code /%6d/x}, {@code /a/../m/x}: the container routes on the path decoded and
     * normalized, as nginx matches its locations), or -1. It is the end of the segment at which the
     * normalized path last came down to the prefix, if no segment after it goes back above the prefix:
     * PATH_INFO stays raw, as in the usual case, and what follows still normalizes below the prefix.
     */
    static int afterPrefix(String path, String prefix) {
        List<String> wanted = new ArrayList<>();
        for (String segment : prefix.split("/")) {
            if (!segment.isEmpty()) {
                wanted.add(segment);
            }
        }
        List<String> normalized = new ArrayList<>();
        int after = -1;
        int start = path.startsWith("/") ? 1 : 0;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = path.length();
            }
            String segment = path.substring(start, end);
            int parameters = segment.indexOf(';'); // a path parameter (;jsessionid=...), which the container drops
            String decoded = StaticFiles.decode(parameters < 0 ? segment : segment.substring(0, parameters));
            segment = decoded != null ? decoded : segment; // malformed: it names no prefix segment either way
            if (segment.equals("..")) {
                if (normalized.isEmpty()) {
                    return -1; // above the root: the container refuses it anyway
                }
                normalized.remove(normalized.size() - 1);
            } else if (!segment.isEmpty() && !segment.equals(".")) {
                normalized.add(segment);
            }
            if (normalized.size() < wanted.size()) {
                after = -1; // back above the prefix: what came after it no longer counts
            } else if (after < 0 && normalized.equals(wanted)) {
                after = end;
            }
            start = end + 1;
        }
        return after;
    }

    /**
     * Whether {@code path} from {@code from} on has nothing that normalizing could change: no dot
     * segment, no escape (%2e is a dot), no path parameter. Then the raw prefix before it is the one
     * the container matched; else {@link #afterPrefix} finds where it ends ({@code /m/../m/x}).
     */
    private static boolean plain(String path, int from) {
        for (int i = from; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '%' || c == ';' || c == '.' && path.charAt(i - 1) == '/') {
                return false;
            }
        }
        return true;
    }

    /**
     * An all-ASCII text as is; any other as the bytes it was decoded from: ISO-8859-1 (one char per
     * byte), or UTF-8 when a char is beyond it (a container told to decode the URI as UTF-8).
     */
    static Object raw(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) {
                for (int j = i; j < s.length(); j++) {
                    if (s.charAt(j) > 0xff) {
                        return s.getBytes(StandardCharsets.UTF_8);
                    }
                }
                return s.getBytes(StandardCharsets.ISO_8859_1);
            }
        }
        return s;
    }
}
