/*
 * tiny: does nothing and succeeds, the subject of spawn-to-reap benchmarks (spawn.c and the
 * Java supervisor against ProcessBuilder).
 *
 * Linking: build-native.sh links it statically (gcc -static) when that works, which it does
 * on the reference machine (Debian 12, gcc 12, glibc 2.36 with libc.a from libc6-dev): about
 * 750 KB, no dynamic loader, no shared libraries to map, so a spawn measures the kernel's
 * fork/exec/exit/wait and little else. Where -static fails it falls back to a dynamic link;
 * either way it prints which and records it in target/native/tiny.link ("static"/"dynamic").
 */
int main(void)
{
    return 0;
}
