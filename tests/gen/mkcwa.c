/* mkcwa.c -- write an Axivity AX3 .cwa (packed 10-bit samples, 120 a block; byte layout in
 * ../shared/docs/formats.md 1) for tests and the benchmark. Streams: any length in little memory.
 *
 * Usage: mkcwa OUT.cwa (--wav IN.wav [--leg L|R] | --synthetic SECONDS) [--rate HZ]
 *              [--clock-error FRACTION] [--delay S] [--start "YYYY-MM-DD HH:MM:SS"]
 *              [--corrupt B1,B2,...] [--device-id N]
 * --wav: the acceleration (g) of one leg of a recording (channels 1-3 = L, 4-6 = R); its sample
 *   times are the truth; the device samples them at --rate x (1 + --clock-error) (linear
 *   interpolation), starting --delay seconds after the recording's first sample.
 * --synthetic: 1 g on z, a 2-Hz 0.1-g wobble on x and LCG noise, at --rate (default 100 Hz).
 * Block timestamps are the true times of each block's first sample (device wall clock, given by
 * --start, else the WAV's bext origination time, else 2024-03-28 21:00:00), written with the fractional-second field and its offset
 * shim as the firmware does. --corrupt flips bytes in the named data blocks (checksum fails).
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400, doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static uint32_t pack_time(int64_t s)
{
    int64_t days = s / 86400, sod = s % 86400;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, mo = mp < 10 ? mp + 3 : mp - 9,
            y = yoe + era * 400 + (mo <= 2);
    return (uint32_t)((y - 2000) << 26 | mo << 22 | d << 17 | (sod / 3600) << 12 | (sod / 60 % 60) << 6 | sod % 60);
}

/* One g value as a packed 10-bit mantissa (1/256 g) and the smallest exponent that fits. */
static uint32_t pack3(const double v[3])
{
    int e = 0;
    for (;; e++) {
        int fits = 1;
        for (int a = 0; a < 3; a++) {
            long c = lround(v[a] * 256 / (1 << e));
            fits &= c >= -512 && c <= 511;
        }
        if (fits || e == 3) break;
    }
    uint32_t w = (uint32_t)e << 30;
    for (int a = 0; a < 3; a++) {
        long c = lround(v[a] * 256 / (1 << e));
        if (c < -512) c = -512;
        if (c > 511) c = 511;
        w |= (uint32_t)(c & 0x3FF) << (10 * a);
    }
    return w;
}

typedef struct {
    SNDFILE *sf;
    int ch, leg;
    double fs, g;      /* input rate; g per value read */
    double fr[2][64];  /* input frames ia and ia + 1 */
    int64_t ia;        /* -1 before the first read */
} wav_in;

/* The input's value at time t (seconds from its first sample), linear between frames; 0 when the
 * input has ended. */
static int wav_at(wav_in *w, double t, double out[3])
{
    double pos = t * w->fs;
    int64_t i = (int64_t)floor(pos);
    if (w->ia < 0) {
        if (sf_readf_double(w->sf, w->fr[0], 1) != 1 || sf_readf_double(w->sf, w->fr[1], 1) != 1) return 0;
        w->ia = 0;
    }
    while (w->ia < i) {
        memcpy(w->fr[0], w->fr[1], sizeof w->fr[0]);
        if (sf_readf_double(w->sf, w->fr[1], 1) != 1) return 0;
        w->ia++;
    }
    double f = pos - (double)w->ia;
    for (int a = 0; a < 3; a++) {
        int c = 3 * w->leg + a;
        out[a] = (w->fr[0][c] + (w->fr[1][c] - w->fr[0][c]) * f) * w->g;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mkcwa OUT.cwa (--wav IN.wav [--leg L|R] | --synthetic SECONDS) [--rate HZ] "
                        "[--clock-error F] [--delay S] [--start 'YYYY-MM-DD HH:MM:SS'] [--corrupt B,...] [--device-id N]\n");
        return 2;
    }
    const char *out = argv[1], *wav = NULL, *start = "2024-03-28 21:00:00", *corrupt = "";
    double seconds = 0, rate = 0, clock_err = 0, delay = 0;
    int leg = 0, start_given = 0;
    unsigned id = 12345;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--wav")) wav = argv[i + 1];
        else if (!strcmp(argv[i], "--leg")) leg = argv[i + 1][0] == 'R';
        else if (!strcmp(argv[i], "--synthetic")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--clock-error")) clock_err = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--delay")) delay = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--start")) start = argv[i + 1], start_given = 1;
        else if (!strcmp(argv[i], "--corrupt")) corrupt = argv[i + 1];
        else if (!strcmp(argv[i], "--device-id")) id = (unsigned)atoi(argv[i + 1]);
        else {
            fprintf(stderr, "mkcwa: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    wav_in w = {0};
    w.ia = -1;
    if (wav) {
        SF_INFO si = {0};
        w.sf = sf_open(wav, SFM_READ, &si);
        if (!w.sf || si.channels < 3 || si.channels > 64 || (leg && si.channels < 6)) {
            fprintf(stderr, "mkcwa: %s: not a 3- or 6-channel recording\n", wav);
            return 1;
        }
        w.ch = si.channels;
        w.leg = leg;
        w.fs = si.samplerate;
        seconds = (double)si.frames / si.samplerate - delay;
        if (!rate) rate = si.samplerate;
        /* integer files hold fractions of the full scale (the simulator writes it: "Scale-1: 8") */
        int sub = si.format & SF_FORMAT_SUBMASK;
        const char *cmt = sf_get_string(w.sf, SF_STR_COMMENT);
        w.g = sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE ? 1 : cmt && strstr(cmt, "Scale-1:") ? atof(strstr(cmt, "Scale-1:") + 8) : 8;
        /* the device clock starts at the recording's start (BWF bext), unless --start says otherwise */
        static char bext_start[32];
        SF_BROADCAST_INFO bi;
        memset(&bi, 0, sizeof bi);
        if (!start_given && sf_command(w.sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi) == SF_TRUE && bi.origination_date[0]) {
            snprintf(bext_start, sizeof bext_start, "%.10s %.8s", bi.origination_date, bi.origination_time);
            start = bext_start;
        }
    }
    if (!rate) rate = 100;
    int code = (int)lround(15 - log2(3200.0 / rate));
    if (code < 6 || code > 15 || fabs(3200.0 / (1 << (15 - code)) - rate) > 1e-9) {
        fprintf(stderr, "mkcwa: %g Hz is not a CWA rate (3200 / 2^k)\n", rate);
        return 2;
    }
    int y, mo, d, hh, mi, ss;
    if (sscanf(start, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &hh, &mi, &ss) != 6) {
        fprintf(stderr, "mkcwa: --start '%s' is not YYYY-MM-DD HH:MM:SS\n", start);
        return 2;
    }
    double t_start = (double)(days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss) + delay;
    FILE *f = fopen(out, "wb");
    if (!f) {
        fprintf(stderr, "mkcwa: %s: cannot create\n", out);
        return 1;
    }
    unsigned char h[1024];
    memset(h, 0xFF, sizeof h);
    h[0] = 'M', h[1] = 'D';
    put16(h + 2, 1020);
    h[4] = 0x17; /* AX3 */
    put16(h + 5, id & 0xFFFF);
    put32(h + 7, 1);
    put16(h + 11, id >> 16 ? id >> 16 : 0xFFFF);
    h[35] = 0x00;
    h[36] = (unsigned char)(0x40 | code);
    fwrite(h, 1, sizeof h, f);
    double real_fs = rate * (1 + clock_err);
    int64_t total = (int64_t)floor(seconds * real_fs), nblocks = (total + 119) / 120;
    unsigned long long lcg = 88172645463325252ULL;
    for (int64_t b = 0; b < nblocks; b++) {
        unsigned char k[512];
        memset(k, 0, sizeof k);
        k[0] = 'A', k[1] = 'X';
        put16(k + 2, 508);
        double T = t_start + (double)(b * 120) / real_fs; /* the true time of the block's first sample */
        double Ti = floor(T);
        int f2 = 2 * (int)floor((T - Ti) * 32768); /* even: the field keeps 15 bits, shifted left once */
        put16(k + 4, (unsigned)(0x8000 | (f2 >> 1)));
        put32(k + 6, 1);
        put32(k + 10, (uint32_t)b);
        put32(k + 14, pack_time((int64_t)Ti));
        put16(k + 18, 0);
        put16(k + 20, 300);
        k[23] = 200;
        k[24] = (unsigned char)(0x40 | code);
        k[25] = 0x30;
        int shim = (int)floor(f2 * rate / 65536.0);
        put16(k + 26, (unsigned)(int16_t)(-shim));
        int n = b == nblocks - 1 ? (int)(total - b * 120) : 120;
        put16(k + 28, (unsigned)n);
        for (int i = 0; i < 120; i++) {
            double v[3] = {0, 0, 0};
            int64_t j = b * 120 + i;
            if (i < n && wav) {
                if (!wav_at(&w, delay + (double)j / real_fs, v)) v[0] = v[1] = v[2] = 0;
            } else if (i < n) {
                double t = (double)j / real_fs;
                for (int a = 0; a < 3; a++) {
                    lcg ^= lcg << 13, lcg ^= lcg >> 7, lcg ^= lcg << 17;
                    v[a] = ((double)(lcg >> 11) / 9007199254740992.0 - 0.5) * 0.02;
                }
                v[0] += 0.1 * sin(2 * M_PI * 2 * t);
                v[2] += 1;
            }
            put32(k + 30 + 4 * i, pack3(v));
        }
        unsigned sum = 0;
        for (int i = 0; i < 510; i += 2) sum += (unsigned)(k[i] | k[i + 1] << 8);
        put16(k + 510, (unsigned)(-(int)sum) & 0xFFFF);
        char key[32];
        snprintf(key, sizeof key, ",%lld,", (long long)b);
        char list[1024];
        snprintf(list, sizeof list, ",%s,", corrupt);
        if (strstr(list, key)) k[100] ^= 0x5A, k[101] ^= 0xA5;
        if (fwrite(k, 1, sizeof k, f) != sizeof k) {
            fprintf(stderr, "mkcwa: %s: write error\n", out);
            return 1;
        }
    }
    if (w.sf) sf_close(w.sf);
    return fclose(f) == 0 ? 0 : 1;
}
