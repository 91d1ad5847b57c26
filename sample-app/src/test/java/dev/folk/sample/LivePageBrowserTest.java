package dev.folk.sample;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The live workers page in a real browser (Debian's headless Chromium, driven by Selenium): one
 * row per live worker, and a recycle click that visibly replaces that worker.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "folk.size=2",
        "folk.slow-call-threshold=300ms",
        "management.endpoint.workers.access=unrestricted"})
class LivePageBrowserTest {

    /** Saved as a build artifact. */
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @LocalServerPort
    int port;

    @TempDir
    Path profile;

    private ChromeDriver browser;

    @BeforeEach
    void openBrowser() {
        // Debian's chromium and chromium-driver; no driver download (Selenium Manager) is attempted.
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of("/usr/bin/chromedriver").toFile()).build();
        ChromeOptions options = new ChromeOptions().setBinary("/usr/bin/chromium").addArguments(
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
                "--window-size=1200,800", "--user-data-dir=" + profile);
        browser = new ChromeDriver(service, options);
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void thePageShowsOneRowPerLiveWorkerAndARecycledWorkersRowGetsANewPid() throws Exception {
        Http http = new Http(port);
        browser.get("http://127.0.0.1:" + port + "/");
        // The page re-renders every second: element handles go stale, so waits retry through that.
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(15));
        wait.ignoring(StaleElementReferenceException.class);

        Set<Integer> live = pids(http.workers("default"));
        assertThat(live).hasSize(2);
        wait.until(b -> rowPids().equals(live));
        assertThat(rowPids()).as("one row per live worker pid").isEqualTo(pids(http.workers("default")));

        int victim = live.iterator().next();
        wait.until(b -> {
            WebElement button = b.findElement(By.cssSelector("tr[data-pid='" + victim + "'] button.recycle"));
            button.click();
            return true;
        });

        wait.until(b -> {
            Set<Integer> rows = rowPids();
            return rows.size() == 2 && !rows.contains(victim);
        });
        Set<Integer> after = rowPids();
        assertThat(after).doesNotContain(victim).hasSize(2);
        Set<Integer> kept = new HashSet<>(live);
        kept.remove(victim);
        assertThat(after).containsAll(kept);
        wait.until(b -> rowPids().equals(pidsQuietly(http)));
        assertThat(read("section[data-pool=default] table.exits", "textContent"))
                .contains(Integer.toString(victim)).contains("recycle");

        // The chart: calls served since the page opened show as a non-zero peak rate.
        for (int i = 0; i < 50; i++) {
            assertThat(http.get("/php/hello").statusCode()).isEqualTo(200);
        }
        wait.until(b -> peakRate() > 0);
        assertThat(read("section[data-pool=default] figure.chart polyline.rate", "points").split(" ").length)
                .as("one point per second sampled").isGreaterThan(1);

        // A slow call: logged with its PHP stack, counted on the page; it still sleeps its full time.
        long t0 = System.nanoTime();
        assertThat(http.text("/php/demo/sleep?ms=800")).startsWith("Slept 800 ms");
        assertThat(System.nanoTime() - t0).as("the stack capture's signal did not cut the sleep short")
                .isGreaterThanOrEqualTo(800_000_000L);
        wait.until(b -> poolText().contains("slow calls 1"));
        assertThat(poolText()).contains("fixed at 2").contains("longest queue");

        Files.createDirectories(SCREENSHOTS);
        Path shot = browser.getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(shot, SCREENSHOTS.resolve("live-workers-page.png"), StandardCopyOption.REPLACE_EXISTING);
        assertThat(Files.size(SCREENSHOTS.resolve("live-workers-page.png"))).isPositive();
    }

    private String poolText() {
        return String.valueOf(browser.executeScript(
                "const s = document.querySelector('section[data-pool=default]'); return s ? s.textContent : '';"));
    }

    /** The peak calls/s the default pool's chart shows, or -1 while it has no chart yet. */
    /**
     * An attribute (or textContent) of the first element matching {@code selector}, "" if none, read
     * in one script: the page re-renders every second, so an element found in one call may be gone
     * by the next (StaleElementReferenceException).
     */
    private String read(String selector, String what) {
        return String.valueOf(browser.executeScript("const e = document.querySelector(arguments[0]);"
                + " if (!e) return ''; return arguments[1] === 'textContent' ? e.textContent : e.getAttribute(arguments[1]) || '';",
                selector, what));
    }

    private int peakRate() {
        Object text = browser.executeScript(
                "const k = document.querySelector('section[data-pool=default] figure.chart .key.rate');"
                        + " return k ? k.textContent : '';");
        Matcher m = Pattern.compile("peak (\\d+)").matcher(String.valueOf(text));
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The pids of the rows on the page, read in one go (the table is re-rendered every second). */
    private Set<Integer> rowPids() {
        List<?> pids = (List<?>) browser.executeScript(
                "return [...document.querySelectorAll('section[data-pool=default] table.workers tbody tr')].map(r => r.dataset.pid)");
        return pids.stream().map(p -> Integer.parseInt(String.valueOf(p))).collect(Collectors.toSet());
    }

    private static Set<Integer> pids(List<Map<String, Object>> workers) {
        return workers.stream().map(w -> (Integer) w.get("pid")).collect(Collectors.toSet());
    }

    private static Set<Integer> pidsQuietly(Http http) {
        try {
            return pids(http.workers("default"));
        } catch (Exception e) {
            return Set.of();
        }
    }
}
