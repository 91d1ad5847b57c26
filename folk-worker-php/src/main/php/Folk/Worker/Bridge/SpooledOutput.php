<?php

declare(strict_types=1);

namespace Folk\Worker\Bridge;

/**
 * The output of a plain `http()` handler ({@see \Folk\Worker\Http\HttpHandler}), kept until the
 * handler returns, in memory up to {@see MEMORY} bytes and past that in a temporary file, so that
 * what a handler prints does not have to fit in PHP's memory_limit (a 250 MB export printed with
 * echo). The handler's answer (its status and headers) is known only when it returns: until
 * then nothing can be sent, and PHP-FPM, which would send each output_buffering's worth on, holds
 * nothing either. Once it returns, a master that takes streamed answers gets the body in parts
 * read from the file ({@see StreamedBody::splitSpooled()}).
 *
 * The file is made in sys_get_temp_dir() (a Folk pool gives each worker its own TMPDIR) and
 * unlinked as soon as it is open: it goes with its descriptor, when the call ends ({@see release()})
 * or however the process ends, a crash or a kill included.
 *
 * What the application prints is taken out of the capture buffer every {@see CHUNK} bytes. The
 * order PHP-FPM would send it in is kept, and so is what ob_clean() discards: output taken out
 * by size only is held as the buffer's own, and a clean drops it with the rest of the buffer;
 * output the application flushed (ob_flush(), the buffer's end) stays, as it would have been sent.
 * Output printed past every buffer ({@see UnbufferedOutput}) once the application closed this one
 * joins it here too ({@see takeUnbuffered()}).
 */
final class SpooledOutput
{
    /**
     * Output held in memory before it goes to a temporary file: the pages of nearly every
     * application stay in memory (no file, no system call), while what a handler prints can cost
     * the worker at most this much of its memory_limit (128M by default, often less) however large
     * it grows. A few times {@see StreamedBody::THRESHOLD}, past which the body streams anyway.
     */
    public const MEMORY = 4 << 20;

    /**
     * The capture buffer's chunk size: output is taken out of it every this many bytes (or each
     * larger echo at once). As {@see StreamedBody}'s: PHP allocates a buffer of the chunk size for
     * each request, so a larger one would cost every small page.
     */
    private const CHUNK = 64 * 1024;

    /** The most bytes read from the file at a time, for a part of the answer. */
    private const PIECE = 1 << 20;

    /** The output of the call being served, for {@see takeUnbuffered()}. */
    private static ?self $current = null;

    /** All the output when it is in memory; '' once it is in {@see $file}. */
    private string $memory = '';
    /** @var resource|null the temporary file holding all the output, once past {@see MEMORY} */
    private $file = null;
    /** How many bytes of output there are. */
    private int $length = 0;
    /** How many of them ob_clean() cannot take back: flushed, or printed past every buffer. */
    private int $committed = 0;
    /** The capture buffer's level while it is open, else 0. */
    private int $level = 0;
    /** What could not be written to the file, thrown by {@see end()}: an output handler must not throw. */
    private ?\Throwable $failure = null;

    private function __construct()
    {
    }

    /** Opens the capture buffer of a call's output. */
    public static function start(): self
    {
        $output = self::$current = new self();
        $output->level = ob_get_level() + 1;
        ResponseResult::kept($output->level); // nothing of an earlier buffer at that level
        ob_start($output->handle(...), self::CHUNK);
        return $output;
    }

    /**
     * Closes the output buffers above $level (the capture and any the application left open) and
     * takes in what they hold, in the order {@see ResponseResult::endBuffers()} gives it: after
     * this, the object holds everything the call printed.
     *
     * @throws \RuntimeException if the output could not be written to the temporary file
     */
    public function end(int $level): self
    {
        if ($this->level !== 0) {
            // Buffers the application opened since hold what it printed after what ours holds.
            $above = ob_get_level() > $this->level ? ResponseResult::endBuffers($this->level) : '';
            if (ob_get_level() === $this->level) {
                ob_end_flush(); // what ours holds comes in through handle()
            }
            $this->append($above, true);
        } else {
            // The application closed ours: what came since, past every buffer or in buffers of its own.
            $this->append(ResponseResult::endBuffers($level), true);
        }
        if (self::$current === $this) {
            self::$current = null;
        }
        if ($this->failure !== null) {
            $failure = $this->failure;
            $this->release();
            throw $failure;
        }
        return $this;
    }

    /**
     * Takes output printed past every output buffer ({@see UnbufferedOutput}) into the current
     * call's output, if that call's capture buffer is closed (the application closed it, as
     * download scripts do before readfile()): it comes after everything printed before. False
     * where the bytes must be held elsewhere (no plain handler's call, or its buffer still open).
     */
    public static function takeUnbuffered(string $bytes): bool
    {
        $output = self::$current;
        if ($output === null || $output->level !== 0) {
            return false;
        }
        $output->append($bytes, true);
        return true;
    }

    /** Whether the output went to a temporary file: it is then read back in {@see pieces()}. */
    public function spilled(): bool
    {
        return $this->file !== null;
    }

    /** How many bytes were printed. */
    public function length(): int
    {
        return $this->length;
    }

    /** All the output as one string: use only where it is in memory, or known to fit. */
    public function contents(): string
    {
        if ($this->file === null) {
            return $this->memory;
        }
        $contents = '';
        foreach ($this->pieces(self::PIECE) as $piece) {
            $contents .= $piece;
        }
        return $contents;
    }

    /**
     * The output in order, in pieces of at most $size bytes.
     *
     * @return \Generator<int, string>
     */
    public function pieces(int $size): \Generator
    {
        if ($this->file === null) {
            for ($offset = 0; $offset < $this->length; $offset += $size) {
                yield $offset === 0 && $this->length <= $size ? $this->memory : substr($this->memory, $offset, $size);
            }
            return;
        }
        if (!rewind($this->file)) {
            throw new \RuntimeException('cannot read back the output kept in a temporary file');
        }
        for ($left = $this->length; $left > 0; $left -= strlen($piece)) {
            $piece = fread($this->file, min($size, $left));
            if ($piece === false || $piece === '') {
                throw new \RuntimeException(sprintf('the temporary file of the output ended %d bytes short', $left));
            }
            yield $piece;
        }
    }

    /** Lets go of the output (its temporary file included, closed and so gone). */
    public function release(): void
    {
        if ($this->file !== null) {
            fclose($this->file);
            $this->file = null;
        }
        $this->memory = '';
        $this->length = $this->committed = 0;
        if (self::$current === $this) {
            self::$current = null;
        }
    }

    /** The capture buffer's handler: takes out what the buffer passes on; nothing goes below it. */
    private function handle(string $buffer, int $phase): string
    {
        if (($phase & PHP_OUTPUT_HANDLER_CLEAN) !== 0) {
            $this->truncate(); // ob_clean(): what the buffer held goes, what was taken out by size with it
        } else {
            $this->append($buffer, ($phase & (PHP_OUTPUT_HANDLER_FLUSH | PHP_OUTPUT_HANDLER_FINAL)) !== 0);
        }
        if (($phase & PHP_OUTPUT_HANDLER_FINAL) !== 0) {
            $this->level = 0; // closed, by us or by the application
        }
        return '';
    }

    /** Adds $bytes at the end; with $commit, they and all before them stay whatever the application discards. */
    private function append(string $bytes, bool $commit): void
    {
        if ($bytes !== '' && $this->failure === null) {
            if ($this->file === null && $this->length + strlen($bytes) <= self::MEMORY) {
                $this->memory .= $bytes;
            } else {
                $this->write($bytes);
            }
            $this->length += strlen($bytes);
        }
        if ($commit) {
            $this->committed = $this->length;
        }
    }

    /** Writes $bytes to the temporary file, made (with what memory held) the first time. */
    private function write(string $bytes): void
    {
        try {
            if ($this->file === null) {
                $this->file = self::temporaryFile();
                $bytes = $this->memory . $bytes;
                $this->memory = '';
            }
            for ($done = 0, $total = strlen($bytes); $done < $total; $done += $written) {
                $written = @fwrite($this->file, $done === 0 ? $bytes : substr($bytes, $done));
                if ($written === false || $written === 0) {
                    throw new \RuntimeException(sprintf('cannot write the output to a temporary file in %s (%s)',
                        sys_get_temp_dir(), error_get_last()['message'] ?? 'disk full?'));
                }
            }
        } catch (\Throwable $e) {
            $this->failure = $e; // what follows goes nowhere; end() throws it
        }
    }

    /** Drops what the application may still take back ({@see $committed}). */
    private function truncate(): void
    {
        if ($this->length === $this->committed || $this->failure !== null) {
            return;
        }
        if ($this->file === null) {
            $this->memory = substr($this->memory, 0, $this->committed);
        } elseif (!ftruncate($this->file, $this->committed) || fseek($this->file, $this->committed) !== 0) {
            $this->failure = new \RuntimeException('cannot discard output kept in a temporary file');
            return;
        }
        $this->length = $this->committed;
    }

    /** @return resource a new file in sys_get_temp_dir(), open for reading and writing, already unlinked */
    private static function temporaryFile()
    {
        $dir = sys_get_temp_dir();
        $path = @tempnam($dir, 'folk-output-');
        $file = $path === false ? false : @fopen($path, 'w+b');
        if ($path !== false) {
            @unlink($path);
        }
        if ($file === false) {
            throw new \RuntimeException(sprintf('cannot make a temporary file in %s for the output (%s)',
                $dir, error_get_last()['message'] ?? 'unknown error'));
        }
        // Read back a piece at a time (a megabyte) with one read(2) each, not through PHP's 8 KB buffer.
        stream_set_read_buffer($file, 0);
        return $file;
    }
}
