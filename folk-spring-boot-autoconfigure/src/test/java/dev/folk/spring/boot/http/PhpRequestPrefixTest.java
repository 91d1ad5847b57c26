package dev.folk.spring.boot.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a strip-prefix mapping gives PHP as PATH_INFO when the raw path spells its prefix otherwise
 * than literally: the container routed it to the mapping on the path decoded and normalized, as
 * nginx matches a location, so the prefix is still stripped; what follows stays raw.
 */
class PhpRequestPrefixTest {

    @ParameterizedTest(name = "{0} under {1} -> ''{2}''")
    @CsvSource(delimiter = '|', value = {
        "//m/sub/|/m|/sub/",
        "/%6d/sub/|/m|/sub/",
        "/%6D/sub/x%2Fy|/m|/sub/x%2Fy",
        "/x/../m/sub/|/m|/sub/",
        "/./m//sub|/m|//sub",
        "/m/../m/sub|/m|/sub",
        "/m;a=b/sub|/m|/sub",
        "/m|/m|''",
        "//m|/m|''",
        "/a//b/c|/a/b|/c",
        "/ctx//dav/f|/ctx/dav|/f",
    })
    void thePathGoesOnAfterThePrefixAsNormalized(String path, String prefix, String pathInfo) {
        int rest = PhpRequest.afterPrefix(path, prefix);
        assertThat(rest).isNotNegative();
        assertThat(path.substring(rest)).isEqualTo(pathInfo);
    }

    @ParameterizedTest(name = "{0} is not under {1}")
    @CsvSource(delimiter = '|', value = {
        "/mm/sub|/m",
        "/a/m/sub|/m",
        "/m/../x|/m",
        "/m/..|/m",
        "/..|/m",
        "/%2e%2e/m|/m",
    })
    void aPathThatIsNotUnderThePrefixIsNot(String path, String prefix) {
        assertThat(PhpRequest.afterPrefix(path, prefix)).isEqualTo(-1);
    }
}
