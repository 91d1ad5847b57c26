package dev.folk.sample;

import java.util.List;
import java.util.Map;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.folk.core.pool.CallException;
import dev.folk.core.pool.WorkerErrorException;
import dev.folk.core.pool.WorkerPool;

/** A JSON API backed by a PHP function: {@code GET /api/stats?numbers=1,2,3}. */
@RestController
@RequestMapping("/api")
public class StatsApi {

    private final WorkerPool php;

    public StatsApi(WorkerPool php) {
        this.php = php;
    }

    /** Summary statistics, computed by the PHP function registered as {@code stats.describe}. */
    @GetMapping("/stats")
    @SuppressWarnings("unchecked")
    public Map<Object, Object> stats(@RequestParam List<Double> numbers) {
        return php.call("stats.describe", numbers, Map.class);
    }

    /** The PHP function rejected the input (it threw): the caller's fault. */
    @ExceptionHandler(WorkerErrorException.class)
    public ResponseEntity<Map<String, Object>> rejected(WorkerErrorException e) {
        return ResponseEntity.badRequest().body(Map.of("error", e.remoteMessage(), "code", e.code()));
    }

    /** Anything else on the pool's side. */
    @ExceptionHandler(CallException.class)
    public ResponseEntity<Map<String, Object>> failed(CallException e) {
        return ResponseEntity.status(HttpStatus.BAD_GATEWAY).body(Map.of("error", e.getClass().getSimpleName()));
    }
}
