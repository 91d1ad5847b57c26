package dev.folk.sample;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;

/** A small HTTP client for the sample app's tests. */
final class Http {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;

    Http(int port) {
        this.base = "http://127.0.0.1:" + port;
    }

    HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
    }

    HttpResponse<byte[]> post(String path, byte[] body, String contentType) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));
    }

    HttpResponse<byte[]> delete(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(base + path)).DELETE());
    }

    HttpResponse<byte[]> send(HttpRequest.Builder request) throws IOException, InterruptedException {
        return client.send(request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    String text(String path) throws IOException, InterruptedException {
        return new String(get(path).body());
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> json(String path) throws IOException, InterruptedException {
        return JSON.readValue(get(path).body(), Map.class);
    }

    /** The workers endpoint's view of one pool. */
    @SuppressWarnings("unchecked")
    Map<String, Object> pool(String name) throws IOException, InterruptedException {
        return (Map<String, Object>) ((Map<String, Object>) json("/actuator/workers").get("pools")).get(name);
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> workers(String pool) throws IOException, InterruptedException {
        return (List<Map<String, Object>>) pool(pool).get("workers");
    }
}
