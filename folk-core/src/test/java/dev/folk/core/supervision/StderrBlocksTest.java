package dev.folk.core.supervision;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Marked blocks leave a worker's stderr only when their sink takes them; nothing else is held back or lost. */
class StderrBlocksTest {

    private final List<List<String>> taken = new ArrayList<>();
    private boolean take = true;
    private final StderrBlocks blocks = new StderrBlocks("begin ", "end", 4, b -> take && taken.add(b));

    @Test
    void aTakenBlockLeavesTheOutputAndOtherLinesPassAtOnce() {
        assertThat(blocks.offer("ordinary")).isNull();
        assertThat(blocks.offer("begin msgid=1")).isEmpty();
        assertThat(blocks.offer("#0 a.php:1 f()")).isEmpty();
        assertThat(blocks.offer("end")).isEmpty();
        assertThat(taken).containsExactly(List.of("begin msgid=1", "#0 a.php:1 f()", "end"));
        assertThat(blocks.offer("beginning without the marker's space")).isNull();
    }

    @Test
    void outputWithoutANewlineGluedToABlocksFirstLineIsALineOfItsOwnAndTheBlockIsTaken() {
        assertThat(blocks.offer("partial, no newline begin msgid=5")).containsExactly("partial, no newline ");
        assertThat(blocks.offer("#0 a.php:1 f()")).isEmpty();
        assertThat(blocks.offer("end")).isEmpty();
        assertThat(taken).containsExactly(List.of("begin msgid=5", "#0 a.php:1 f()", "end"));
        take = false;
        blocks.offer("x begin msgid=6");
        assertThat(blocks.offer("end")).as("refused: ordinary output after all").containsExactly("begin msgid=6", "end");
    }

    @Test
    void aRefusedOverlongOrUnfinishedBlockIsOrdinaryOutputAfterAll() {
        take = false;
        blocks.offer("begin msgid=2");
        assertThat(blocks.offer("end")).containsExactly("begin msgid=2", "end");

        take = true;
        blocks.offer("begin msgid=3");
        blocks.offer("a");
        blocks.offer("b");
        assertThat(blocks.offer("c")).as("past maxLines without its end").containsExactly("begin msgid=3", "a", "b", "c");
        assertThat(blocks.offer("end")).as("a lone end marker").isNull();

        blocks.offer("begin msgid=4");
        blocks.offer("x");
        assertThat(blocks.flush()).as("end of stream").containsExactly("begin msgid=4", "x");
        assertThat(blocks.flush()).isEmpty();
        assertThat(taken).isEmpty();
    }
}
