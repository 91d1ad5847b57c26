package dev.folk.spring.boot.watch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Which files count as a change of a pool's sources. */
class WatchedPoolTest {

    private static final Path SRC = Path.of("/srv/app/src");
    private static final Path ENV = Path.of("/srv/app/.env");

    private static WatchedPool pool(String... patterns) {
        return new WatchedPool("web", List.of(new WatchRoot(SRC, true, null), new WatchRoot(ENV, false, null)),
                List.of(patterns), Duration.ofMillis(300));
    }

    @Test
    void theDefaultGlobMatchesPhpFilesAtAnyDepthIncludingTheTop() {
        WatchedPool p = pool("**/*.php");
        assertThat(p.matches(SRC.resolve("app.php"))).isTrue();
        assertThat(p.matches(SRC.resolve("Controller/Admin/Home.php"))).isTrue();
        assertThat(p.matches(SRC.resolve("notes.txt"))).isFalse();
        assertThat(p.matches(SRC.resolve("app.php.swp"))).isFalse();
        assertThat(p.matches(Path.of("/srv/app/other/x.php"))).as("outside the roots").isFalse();
        assertThat(p.matches(ENV)).as("a file named as a root always counts").isTrue();
        assertThat(p.matches(Path.of("/srv/app/.env.local"))).isFalse();
    }

    @Test
    void aGlobWithoutASlashMatchesNamesAnywhereOneWithASlashThePathInTheRoot() {
        WatchedPool p = pool("*.twig", "config/*.yaml", "{bootstrap,routes}.php");
        assertThat(p.matches(SRC.resolve("views/deep/page.twig"))).isTrue();
        assertThat(p.matches(SRC.resolve("config/app.yaml"))).isTrue();
        assertThat(p.matches(SRC.resolve("config/deep/app.yaml"))).isFalse();
        assertThat(p.matches(SRC.resolve("lib/routes.php"))).isTrue();
        assertThat(p.matches(SRC.resolve("lib/app.php"))).isFalse();
    }

    /** Editors make hidden files before a save: Emacs' lock .#Home.php appears at the first keystroke. */
    @Test
    void aHiddenFileCountsOnlyWhenAGlobNamesHiddenFiles() {
        WatchedPool p = pool("**/*.php");
        assertThat(p.matches(SRC.resolve(".#Home.php"))).as("Emacs' lock file").isFalse();
        assertThat(p.matches(SRC.resolve("Controller/.Home.php"))).isFalse();
        assertThat(p.matches(SRC.resolve("Controller/Home.php"))).isTrue();
        WatchedPool hidden = pool("**/*.php", ".env*", "conf/.*.php");
        assertThat(hidden.matches(SRC.resolve(".env.local"))).as("a glob for hidden files").isTrue();
        assertThat(hidden.matches(SRC.resolve(".#Home.php"))).as("not matched by a glob for hidden files").isFalse();
        assertThat(hidden.matches(SRC.resolve("conf/.local.php"))).isTrue();
        assertThat(hidden.matches(SRC.resolve("Home.php"))).isTrue();
    }

    @Test
    void theRootOfAClassPathCopyGivesTheResourceName() {
        Path classes = Path.of("/p/target/classes/php");
        WatchedPool p = new WatchedPool("web", List.of(new WatchRoot(classes, true, "php")), List.of("**/*.php"),
                Duration.ofMillis(300));
        WatchRoot root = p.rootMatching(classes.resolve("lib/util.php"));
        assertThat(root).isNotNull();
        assertThat(root.resourceOf(classes.resolve("lib/util.php"))).isEqualTo("php/lib/util.php");
        assertThat(new WatchRoot(SRC, true, null).resourceOf(SRC.resolve("a.php"))).isNull();
    }

    @Test
    void invalidSettingsAreRefused() {
        assertThatThrownBy(() -> pool("src/[a-")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WatchedPool("web", List.of(), List.of("*.php"), Duration.ZERO))
                .hasMessageContaining("positive");
    }
}
