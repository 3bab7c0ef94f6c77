/* mkwav.c -- write test recordings: noise around 1 g, optional NaN runs, any channel count.
 * Usage: mkwav OUT.wav CHANNELS FS FRAMES [float|int16] [nan-all|nan-run|zero|bed2h]
 * bed2h: an hour of walking (shank axis x upright, 0.3 g at 2.5 Hz), two hours lying still
 * (gravity on z), then upright and still to the end: a leg whose time in bed is two hours.
 * Streams in blocks, so multi-day files need no memory. Deterministic (LCG noise). */
#define _DEFAULT_SOURCE
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: mkwav OUT CHANNELS FS FRAMES [float|int16] [nan-all|nan-run|zero|bed2h]\n");
        return 2;
    }
    int ch = atoi(argv[2]), fs = atoi(argv[3]);
    long long frames = atoll(argv[4]);
    int int16 = argc > 5 && !strcmp(argv[5], "int16");
    const char *mode = argc > 6 ? argv[6] : "";
    SF_INFO si = {.samplerate = fs, .channels = ch, .format = SF_FORMAT_WAV | (int16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT)};
    if (frames * ch * (int16 ? 2 : 4) > 0xFFFFFF00LL) si.format = SF_FORMAT_RF64 | (si.format & SF_FORMAT_SUBMASK);
    SNDFILE *sf = sf_open(argv[1], SFM_WRITE, &si);
    if (!sf) {
        fprintf(stderr, "mkwav: %s: %s\n", argv[1], sf_strerror(NULL));
        return 1;
    }
    sf_command(sf, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    enum { B = 65536 };
    double *buf = malloc(sizeof(double) * B * (size_t)ch);
    unsigned long long s = 88172645463325252ULL;
    double scale = int16 ? 1.0 / 8.0 : 1.0; /* int16 files are meant to be read with full_scale_g = 8 */
    for (long long i0 = 0; i0 < frames; i0 += B) {
        long long nb = frames - i0 < B ? frames - i0 : B;
        for (long long j = 0; j < nb; j++)
            for (int c = 0; c < ch; c++) {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                double v = (c % 3 == 2 ? 1.0 : 0.0) + ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.01;
                long long i = i0 + j;
                if (!strcmp(mode, "nan-all") || (!strcmp(mode, "nan-run") && i >= frames / 3 && i < frames / 3 + fs))
                    v = NAN;
                if (!strcmp(mode, "zero")) v = 0;
                if (!strcmp(mode, "bed2h")) {
                    double t = (double)i / fs, up = t < 3600 || t >= 3 * 3600;
                    v += (c % 3 == 0 ? up : c % 3 == 2 ? !up : 0) - (c % 3 == 2 ? 1.0 : 0.0);
                    if (t < 3600 && c % 3 == 0) v += 0.3 * sin(2 * M_PI * 2.5 * t);
                }
                buf[j * ch + c] = v * scale;
            }
        if (sf_writef_double(sf, buf, nb) != nb) {
            fprintf(stderr, "mkwav: %s: write error\n", argv[1]);
            return 1;
        }
    }
    free(buf);
    sf_close(sf);
    return 0;
}
