<?php

/*
 * The fake framework of the "boot" benchmark handler, shared by www/boot.php (PHP-FPM: boots
 * on every request) and www/worker.php (a Folk worker: boots once at start).
 *
 * boot(): registers an autoloader over the generated classmap (gen-classes.php), then
 * instantiates and registers every generated service, each doing a fixed amount of work:
 * ~200 class files and ~3 ms of CPU, like a framework bootstrap.
 * handle(): the per-request part, identical under both servers.
 */

declare(strict_types=1);

namespace FolkBench;

final class App
{
    /** @var array<string, object> */
    private array $services = [];
    private int $checksum = 0;

    private function __construct(private readonly string $genDir)
    {
    }

    /** The generated classes: FOLK_BENCH_GEN_DIR (env or FastCGI param), else benchmarks/target/fpm-gen. */
    public static function genDir(): string
    {
        $dir = $_SERVER['FOLK_BENCH_GEN_DIR'] ?? getenv('FOLK_BENCH_GEN_DIR');
        return is_string($dir) && $dir !== '' ? $dir : dirname(__DIR__, 3) . '/target/fpm-gen';
    }

    public static function boot(?string $genDir = null): self
    {
        $app = new self($genDir ?? self::genDir());
        $map = is_file($app->genDir . '/classmap.php') ? require $app->genDir . '/classmap.php' : null;
        if (!is_array($map) || !isset($map['files'], $map['services'])) {
            throw new \RuntimeException('no generated classes in ' . $app->genDir . ': run benchmarks/scripts/fpm/gen-classes.php');
        }
        $files = $map['files'];
        $dir = $app->genDir;
        spl_autoload_register(static function (string $class) use ($files, $dir): void {
            if (isset($files[$class])) {
                require $dir . '/' . $files[$class];
            }
        });
        foreach ($map['services'] as $class) {
            $service = new $class();
            $service->register($app);
        }
        return $app;
    }

    public function set(string $id, object $service, int $checksum): void
    {
        $this->services[$id] = $service;
        $this->checksum = crc32($this->checksum . ':' . $checksum);
    }

    public function get(string $id): object
    {
        return $this->services[$id] ?? throw new \LogicException("service $id is not registered yet");
    }

    /** The per-request part: look a service up and describe the app, in one line. */
    public function handle(string $path): string
    {
        $count = count($this->services);
        $last = array_key_last($this->services);
        $service = $last === null ? null : $this->services[$last];
        $what = $service === null ? 'no service' : $service->describe($path);
        return sprintf("Booted %d services (checksum %08x): %s\n", $count, $this->checksum, $what);
    }
}
