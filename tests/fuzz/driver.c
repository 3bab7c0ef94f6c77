/* driver.c -- runs a fuzz target over files without libFuzzer, so that the seed corpus and
 * every crashing input once found (tests/fuzz/corpus/<target>/) are replayed by `make test`
 * and `make asan` with the normal compiler. Usage: fuzz_<target> FILE... */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "%s: cannot open\n", argv[i]);
            return 1;
        }
        uint8_t *buf = NULL;
        size_t n = 0, cap = 0, got;
        uint8_t tmp[65536];
        while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) {
            if (n + got > cap) {
                cap = 2 * (n + got);
                uint8_t *nb = realloc(buf, cap);
                if (!nb) {
                    free(buf);
                    fclose(f);
                    return 1;
                }
                buf = nb;
            }
            for (size_t k = 0; k < got; k++) buf[n + k] = tmp[k];
            n += got;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf ? buf : tmp, n);
        free(buf);
    }
    return 0;
}
