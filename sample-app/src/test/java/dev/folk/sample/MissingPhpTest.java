package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/** Without php, start-up stops with the failure analyzer's explanation of how to install it. */
@ExtendWith(OutputCaptureExtension.class)
class MissingPhpTest {

    @Test
    void withoutPhpStartupStopsAndSaysHowToInstallIt(CapturedOutput output) {
        SpringApplication app = new SpringApplication(SampleApplication.class);
        // php cannot be found on the workers' PATH: the same as a machine without PHP.
        assertThatThrownBy(() -> app.run("--server.port=0", "--folk.env.PATH=/nonexistent",
                "--folk.shutdown.signal-handler=false")).isNotNull();
        assertThat(output).contains("APPLICATION FAILED TO START").contains("folk.command").contains("php")
                .contains("apt-get install php-cli php-msgpack");
    }
}
