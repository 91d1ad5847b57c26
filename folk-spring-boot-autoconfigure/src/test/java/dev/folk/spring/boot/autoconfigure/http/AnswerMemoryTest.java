package dev.folk.spring.boot.autoconfigure.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.folk.core.pool.WorkerPool;
import dev.folk.core.pool.WorkerState;
import dev.folk.core.testing.Procs;
import dev.folk.core.testing.Workers;
import dev.folk.spring.boot.autoconfigure.TestWorkers;
import dev.folk.spring.boot.autoconfigure.app.WebTestApplication;
import dev.folk.spring.boot.http.FolkHttpGateway;

/**
 * Streamed answers waiting for slow clients hold at most 1 MB each in the heap, and all of them
 * together no more than request bodies may ({@code folk.http.body-memory}, 1.5 MB here); past
 * that, their parts wait in temporary files. So many clients that read slowly cannot fill the
 * heap, and each still gets its answer whole. The {@code folk.http.answer.memory.used} meter
 * shows what they hold.
 */
@SpringBootTest(classes = WebTestApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT, properties = {
    "folk.size=1",
    "folk.max-frame-length=64KB",
    "folk.shutdown.signal-handler=false",
    "folk.http.mappings[0].path=/s/**",
    "folk.http.max-body-size=1KB",
    "folk.http.body-memory=1536KB",
})
@DirtiesContext
@Import(AnswerMemoryTest.SmallSendBuffers.class)
class AnswerMemoryTest {

    private static final String TAG = Workers.newTag();

    private static final int PART = 64 * 1024 - 64;

    /** About 3 MB per answer: past its share of memory. */
    private static final int PARTS = 48;

    @TestConfiguration(proxyBeanMethods = false)
    static class SmallSendBuffers {

        /** So that the kernel takes little of an answer in the client's place, whatever its own sizing: the rest waits in the gateway. */
        @Bean
        TomcatConnectorCustomizer smallSendBuffers() {
            return connector -> connector.setProperty("socket.txBufSize", "8192");
        }
    }

    @DynamicPropertySource
    static void workers(DynamicPropertyRegistry registry) {
        TestWorkers.use(registry, TestWorkers.STREAM, TAG);
    }

    @LocalServerPort
    int port;

    @Autowired
    WorkerPool pool;

    @Autowired
    FolkHttpGateway gateway;

    @Autowired
    MeterRegistry registry;

    @Test
    void slowClientsAnswersTogetherHoldNoMoreHeapThanBodiesMay() throws IOException {
        List<Socket> clients = new ArrayList<>();
        try {
            for (String method : List.of("GET", "POST", "GET")) { // the direct path and the asynchronous one
                Socket s = new Socket();
                clients.add(s);
                s.setReceiveBufferSize(4096); // so that the kernel does not take the answer in the client's place
                s.connect(new InetSocketAddress("127.0.0.1", port));
                s.setSoTimeout(30_000);
                String body = method.equals("POST") ? "a=b" : "";
                s.getOutputStream().write((method + " /s/big?parts=" + PARTS + "&size=" + PART + " HTTP/1.1\r\nHost: test\r\n"
                        + "Connection: close\r\n" + (body.isEmpty() ? "" : "Content-Type: application/x-www-form-urlencoded\r\n"
                        + "Content-Length: 3\r\n") + "\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
                s.getInputStream().readNBytes(16);
                // Its call is over once the worker is idle: all of its answer is held for the client.
                Procs.await(Duration.ofSeconds(15), "the worker idle", () -> pool.snapshot().count(WorkerState.IDLE) == 1);
            }
            long held = gateway.answerBytes();
            assertThat(held).as("heap held for three slow clients").isGreaterThanOrEqualTo(1024 * 1024)
                    .isLessThanOrEqualTo(1536 * 1024);
            assertThat(registry.get("folk.http.answer.memory.used").gauge().value()).isEqualTo(held);

            for (Socket s : clients) {
                byte[] answer = ChunkedBody.of(s.getInputStream().readAllBytes());
                assertThat(answer).hasSize(PARTS * PART + "tail".length());
                for (int k = 0; k < PARTS; k++) {
                    assertThat(answer[k * PART]).isEqualTo((byte) ('A' + k % 26));
                    assertThat(answer[(k + 1) * PART - 1]).isEqualTo((byte) ('A' + k % 26));
                }
            }
            Procs.await(Duration.ofSeconds(10), "the answers' memory back", () -> gateway.answerBytes() == 0,
                    () -> gateway.answerBytes() + " bytes held");
        } finally {
            for (Socket s : clients) {
                s.close();
            }
        }
    }
}
