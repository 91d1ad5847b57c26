package dev.folk.spring.boot.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.pool.ExitReason;
import dev.folk.core.pool.WorkerPool;
import dev.folk.core.testing.Procs;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;

/** Without {@code management.endpoint.workers.access}, the endpoint is read-only: no reset, no recycle. */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.size=1",
    "folk.shutdown.signal-handler=false",
    "management.endpoints.web.exposure.include=health,workers"
})
@DirtiesContext
class WorkersEndpointDefaultAccessTest {

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        registry.add("folk.args", TestWorkers.ECHO::toString);
    }

    @LocalServerPort
    int port;

    @Autowired
    WorkerPool pool;

    @Test
    void writeOperationsAreOffByDefault() {
        Http http = new Http(port);
        List<Integer> pids = http.pids("default");
        assertThat(pids).hasSize(1);
        int pid = pids.get(0);

        int delete = http.delete("/actuator/workers/default/" + pid).statusCode();
        int post = http.post("/actuator/workers/default").statusCode();
        assertThat(delete).as("DELETE status").isIn(404, 405);
        assertThat(post).as("POST status").isIn(404, 405);

        assertThat(http.pids("default")).containsExactly(pid);
        assertThat(Procs.alive(pid)).isTrue();
        assertThat(pool.snapshot().exits().get(ExitReason.RECYCLE)).isZero();
        assertThat(pool.snapshot().exits().get(ExitReason.RESET)).isZero();
        assertThat(pool.snapshot().spawns()).isEqualTo(1);
    }
}
