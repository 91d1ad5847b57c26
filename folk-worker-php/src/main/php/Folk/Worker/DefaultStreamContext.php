<?php

declare(strict_types=1);

namespace Folk\Worker;

/**
 * Takes away, after each call, the default stream context the call made (stream_context_set_default(),
 * or stream_context_get_default() and options set on it), as PHP starts each request without one.
 * A worker process has one request, so without this a call that set a proxy, an `Authorization`
 * header or `ssl.verify_peer` off for its own downloads would set it for every later call's
 * file_get_contents('https://...') and fopen(), whoever they serve.
 *
 * PHP keeps the context in its file globals (`FG(default_context)`, set to NULL at each request's
 * start) and frees it with the request's resources. Here, through FFI: the pointer is set back to
 * NULL and the context's resource released (freed now, or when the last PHP value holding it goes).
 * Not when the application's bootstrap set options on the default context: those are its defaults
 * for every call, and a call's changes to them stay. {@see create()} checks the layout against PHP
 * itself before anything is written (the context's resource must point back at it); where that
 * fails, or without ext-ffi, on ZTS builds, it is null and the context stays, as folk-worker-php's
 * README says.
 */
final class DefaultStreamContext
{
    /** The start of php_file_globals (ext/standard/file.h, unchanged since PHP 7.3), a context and a resource. */
    private const LAYOUT = <<<'C'
        typedef struct {
            int pclose_ret;
            size_t def_chunk_size;
            bool auto_detect_line_endings;
            int64_t default_socket_timeout;
            char *user_agent;
            char *from_address;
            const char *user_stream_current_filename;
            void *default_context;
        } php_file_globals_head;
        typedef struct { uint32_t refcount; uint32_t type_info; int64_t handle; int type; void *ptr; } zend_resource;
        typedef struct { void *notifier; uint8_t options[16]; zend_resource *res; } php_stream_context;
        extern php_file_globals_head file_globals;
        int zend_list_delete(zend_resource *res);
        C;

    /** A pointer to the file globals: the FFI object that declared them is kept with it. */
    private readonly \FFI\CData $globals;

    private function __construct(private readonly \FFI $ffi)
    {
        $this->globals = \FFI::addr($ffi->file_globals);
    }

    /**
     * The reset, or null where it cannot be done safely: the worker's bootstrap set options on the
     * default context, or the layout did not check out. Made after the bootstrap, which already has
     * a default context in most workers: PHP makes one, without options, for any fopen() or
     * file_get_contents() given no context (the worker's own channels are opened so). That one is
     * let go here, as every call's will be.
     */
    public static function create(): ?self
    {
        if (PHP_ZTS || !extension_loaded('ffi')) {
            return null;
        }
        try {
            $self = new self(\FFI::cdef(self::LAYOUT));
        } catch (\Throwable) {
            return null; // FFI refused (ffi.enable), or this PHP does not export its file globals
        }
        $context = stream_context_get_default(); // the bootstrap's, or one made now
        $made = $self->globals->default_context;
        $address = static fn (\FFI\CData $pointer): int => $self->ffi->cast('uintptr_t', $pointer)->cdata;
        if ($made === null || $address(self::resource($self->ffi, $made)->ptr) !== $address($made)) {
            return null; // not where this layout says, or not a context whose resource points back at it
        }
        if (stream_context_get_options($context) !== []) {
            return null; // the application's own defaults, set while it booted: they stay for every call
        }
        unset($context);
        $self->reset();
        return $self;
    }

    /** After a call: no default context, as at the start of a PHP request. */
    public function reset(): void
    {
        $made = $this->globals->default_context; // null for a NULL pointer
        if ($made === null) {
            return;
        }
        $this->globals->default_context = null;
        $this->ffi->zend_list_delete(self::resource($this->ffi, $made));
    }

    private static function resource(\FFI $ffi, \FFI\CData $context): \FFI\CData
    {
        return $ffi->cast('php_stream_context *', $context)->res;
    }
}
