package dev.folk.sample;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jakarta.servlet.http.HttpServletRequest;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.pool.CallException;
import dev.folk.core.pool.ExecTimeoutException;
import dev.folk.core.pool.NoWorkerAvailableException;
import dev.folk.core.pool.PoolClosedException;
import dev.folk.core.pool.QueueFullException;
import dev.folk.core.pool.RequestTooLargeException;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.protocol.Values;

/**
 * Forwards every request under {@code /php/} to PHP as {@code http.handle}, and PHP's answer back.
 *
 * <p>Bodies are bytes end to end. Request headers that occur more than once are joined with
 * {@code ", "} (cookies with {@code "; "}), as the protocol carries one string per name; a
 * response header may carry a list of values and each becomes its own header line. Errors map to
 * what a reverse proxy would answer: a body over the frame limit is 413, a crashed worker or a
 * PHP fatal error 502, a timeout 504, no free worker 503 — each with a short plain-text body.
 */
@RestController
public class PhpBridge {

    private static final Logger log = LoggerFactory.getLogger(PhpBridge.class);

    /** Managed by the servlet container, never copied from PHP's answer. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "transfer-encoding", "te",
            "trailer", "upgrade", "proxy-authenticate", "proxy-authorization", "content-length");

    private static final byte[] NO_BODY = new byte[0];

    private final WorkerPool php;

    public PhpBridge(WorkerPool php) {
        this.php = php;
    }

    @RequestMapping("/php/**")
    public ResponseEntity<byte[]> forward(HttpServletRequest request) throws IOException {
        int limit = php.config().maxFrameLength();
        long length = request.getContentLengthLong();
        if (length > limit) {
            return text(HttpStatus.PAYLOAD_TOO_LARGE, "Request body of " + length
                    + " bytes is over the " + limit + "-byte limit of the worker protocol.");
        }
        // RFC 9112 6.3: with neither Content-Length nor Transfer-Encoding a request has no body (most
        // GETs); not reading the stream then saves its buffer on every request.
        boolean hasBody = length > 0 || (length < 0 && request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null);
        byte[] body = hasBody ? readAtMost(request.getInputStream(), limit + 1) : NO_BODY;
        if (body.length > limit) {
            return text(HttpStatus.PAYLOAD_TOO_LARGE, "Request body is over the " + limit
                    + "-byte limit of the worker protocol.");
        }
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("method", request.getMethod());
        String query = request.getQueryString();
        params.put("uri", query == null ? request.getRequestURI() : request.getRequestURI() + '?' + query);
        params.put("headers", headers(request));
        params.put("body", body);
        Object result;
        try {
            result = php.call("http.handle", params);
        } catch (RequestTooLargeException e) {
            return text(HttpStatus.PAYLOAD_TOO_LARGE, "Request too large for the worker protocol ("
                    + e.size() + " bytes encoded, limit " + e.limit() + ").");
        } catch (ExecTimeoutException e) {
            log.warn(e.getMessage());
            return text(HttpStatus.GATEWAY_TIMEOUT, "PHP did not answer in time.");
        } catch (NoWorkerAvailableException | QueueFullException | PoolClosedException e) {
            log.warn(e.getMessage());
            return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header(HttpHeaders.RETRY_AFTER, "1")
                    .contentType(MediaType.TEXT_PLAIN).body(bytes("No PHP worker is free; try again shortly."));
        } catch (CallException e) {
            log.warn(e.getMessage());
            return text(HttpStatus.BAD_GATEWAY, "PHP failed to answer (worker " + e.pid() + "). See the log.");
        }
        return response(result);
    }

    /** The request headers as name → one string, names as the container reports them. */
    private static Map<String, String> headers(HttpServletRequest request) {
        Map<String, String> headers = new LinkedHashMap<>();
        for (String name : Collections.list(request.getHeaderNames())) {
            List<String> values = Collections.list(request.getHeaders(name));
            headers.put(name, String.join(name.equalsIgnoreCase("cookie") ? "; " : ", ", values));
        }
        return headers;
    }

    /** PHP's {status, headers, body}; anything malformed is PHP's fault: 502, never 500. */
    private ResponseEntity<byte[]> response(Object result) {
        Map<Object, Object> answer;
        int status;
        byte[] body;
        try {
            answer = Values.asMap(result);
            status = answer.get("status") == null ? 200 : Values.asInt(answer.get("status"));
            body = answer.get("body") == null ? new byte[0] : Values.asBytes(answer.get("body"));
        } catch (RuntimeException e) {
            log.warn("PHP answered http.handle with something that is not a response: {}", e.getMessage());
            return text(HttpStatus.BAD_GATEWAY, "PHP gave a malformed answer.");
        }
        if (status < 100 || status > 599) {
            log.warn("PHP answered with HTTP status {}", status);
            return text(HttpStatus.BAD_GATEWAY, "PHP gave an invalid HTTP status.");
        }
        HttpHeaders headers = new HttpHeaders();
        Object rawHeaders = answer.get("headers");
        if (rawHeaders != null) {
            Values.asMap(rawHeaders).forEach((name, value) -> addHeader(headers, String.valueOf(name), value));
        }
        if (!headers.containsHeader(HttpHeaders.CONTENT_TYPE)) {
            headers.setContentType(MediaType.parseMediaType("text/html; charset=UTF-8")); // PHP's default
        }
        return ResponseEntity.status(status).headers(headers).body(body);
    }

    private static void addHeader(HttpHeaders headers, String name, Object value) {
        if (!isToken(name) || HOP_BY_HOP.contains(name.toLowerCase(Locale.ROOT))) {
            log.warn("Dropped response header {} from PHP: not a valid or allowed header name", quote(name));
            return;
        }
        List<?> values = value instanceof List<?> list ? list : List.of(value == null ? "" : value);
        for (Object v : values) {
            String text = Values.asString(v);
            if (isFieldValue(text)) {
                headers.add(name, text);
            } else {
                // CR or LF would split the header: a response-splitting attempt or a bug in PHP code.
                log.warn("Dropped response header {} from PHP: its value contains control characters", name);
            }
        }
    }

    /** RFC 9110 token: the characters a header name may use. */
    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Visible characters, spaces and tabs only: no CR, LF, NUL or other controls. */
    private static boolean isFieldValue(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static byte[] readAtMost(InputStream in, int max) throws IOException {
        return in.readNBytes(max);
    }

    private static ResponseEntity<byte[]> text(HttpStatus status, String message) {
        return ResponseEntity.status(status).contentType(MediaType.TEXT_PLAIN).body(bytes(message + "\n"));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String quote(String s) {
        return '"' + s.replaceAll("[\\p{Cntrl}]", "?") + '"';
    }
}
