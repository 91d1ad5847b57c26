package dev.folk.spring.boot.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** REMOTE_ADDR and SERVER_ADDR as nginx gives them to PHP-FPM, whatever form the container or a filter gave. */
class PhpRequestAddressTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1|127.0.0.1",
        "0:0:0:0:0:0:0:1|::1",
        "[::1]|::1",
        "[2001:db8::1]|2001:db8::1",
        "2001:db8:0:0:0:0:0:1|2001:db8::1",
        "2001:DB8:0:0:1:0:0:1|2001:db8::1:0:0:1",
        "2001:db8:0:1:1:1:1:1|2001:db8:0:1:1:1:1:1",
        "fe80:0:0:0:0:0:0:1%eth0|fe80::1",
        "0:0:0:0:0:0:0:0|::",
        "1:2:3:4:5:6:0:0|1:2:3:4:5:6::",
        "[203.0.113.7:5555]|203.0.113.7",
        "203.0.113.7:5555|203.0.113.7",
        "not:an:address|not:an:address",
    })
    void anAddressIsGivenInNginxsForm(String given, String php) {
        assertThat(PhpRequest.address(given)).isEqualTo(php);
    }
}
