package dev.folk.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ValuesTest {

    @Test
    void asMapAcceptsPhpsEmptyArray() {
        Map<Object, Object> map = Map.of("a", 1L);
        assertThat(Values.asMap(map)).isSameAs(map);
        Map<Object, Object> fromEmptyList = Values.asMap(new ArrayList<>());
        assertThat(fromEmptyList).isEmpty();
        fromEmptyList.put("added", 1L); // usable like any decoded map
        assertThatThrownBy(() -> Values.asMap(List.of(1L)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("Expected a map, got a list of 1 elements");
        assertThatThrownBy(() -> Values.asMap(null))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("Expected a map, got nil");
    }

    @Test
    void asList() {
        List<Object> list = List.of(1L);
        assertThat(Values.asList(list)).isSameAs(list);
        assertThatThrownBy(() -> Values.asList(Map.of())).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Expected a list, got a map of 0 entries");
    }

    @Test
    void asBytesIsLosslessForDecodedValues() {
        byte[] raw = {(byte) 0xff, 0};
        assertThat(Values.asBytes(raw)).isSameAs(raw);
        assertThat(Values.asBytes("é")).containsExactly(0xc3, 0xa9);
        assertThatThrownBy(() -> Values.asBytes(1L)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Expected bytes or a string, got Long");
    }

    @Test
    void asStringReplacesInvalidUtf8() {
        assertThat(Values.asString("x")).isEqualTo("x");
        assertThat(Values.asString("héllo".getBytes(StandardCharsets.UTF_8))).isEqualTo("héllo");
        assertThat(Values.asString(new byte[] {'a', (byte) 0xff})).isEqualTo("a\uFFFD");
        assertThatThrownBy(() -> Values.asString(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void numbersAndBooleans() {
        assertThat(Values.asLong(5L)).isEqualTo(5L);
        assertThat(Values.asLong(5)).isEqualTo(5L);
        assertThat(Values.asInt(200L)).isEqualTo(200);
        assertThat(Values.asDouble(1.5d)).isEqualTo(1.5d);
        assertThat(Values.asDouble(2L)).isEqualTo(2.0d);
        assertThat(Values.asBoolean(true)).isTrue();
        assertThatThrownBy(() -> Values.asInt(1L << 40)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("out of range");
        assertThatThrownBy(() -> Values.asLong(BigInteger.ONE.shiftLeft(63))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("too large");
        assertThatThrownBy(() -> Values.asLong("1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("Expected an integer, got String");
        assertThatThrownBy(() -> Values.asDouble(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Values.asBoolean(1L)).isInstanceOf(IllegalArgumentException.class);
    }
}
