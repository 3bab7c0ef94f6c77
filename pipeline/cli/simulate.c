/* simulate.c -- actiplm simulate: write a synthetic study with ground truth. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    plm_sim_cfg d = plm_sim_cfg_default();
    printf("Usage: actiplm simulate -o DIR [options]\n\n"
           "Write a synthetic study with ground truth: DIR/manifest.csv, DIR/recordings/\n"
           "(16-bit WAV with a BWF start time, or FLAC) and DIR/truth/ (events, leg\n"
           "movements, calibration errors and the true per-night indices; see\n"
           "docs/simulate.md). The same options and seed give byte-identical files.\n\n"
           "Options:\n"
           "  -o, --output DIR       study folder (created)\n"
           "  --subjects N           subjects (default %d)\n"
           "  --nights K             nights per condition (default %d)\n"
           "  --fs HZ                sample rate, whole Hz, 10..1000 (default %g)\n"
           "  --seed S               random seed (default %llu)\n"
           "  --legs 1|2             one ankle (3 channels) or both (6; default %d)\n"
           "  --noise-mg X           white noise SD per axis (default %g mg)\n"
           "  --drift-mg X           slow drift amplitude (default %g mg)\n"
           "  --spike-rate R         single-sample glitches per hour and leg (default %g)\n"
           "  --plms-control X       mean control PLMS index per hour (default %g)\n"
           "  --mg-ratio X           magnesium/control PLMS ratio (default %g)\n"
           "  --timezone TZ          IANA zone of the clock times (default %s)\n"
           "  --first-night DATE     subject 1's first control night (default %s)\n"
           "  --flac                 write FLAC instead of WAV\n"
           "  --float                write 32-bit float WAV in g (no full scale needed)\n"
           "  --no-tilt              movements only shake the leg (slow dorsiflexions and\n"
           "                         posture changes still tilt it)\n"
           "  --preset default|hard  hard: LM amplitudes 8-400 mg, noise 3-8 mg, slow\n"
           "                         dorsiflexions, twitches, sparse wake (docs/simulate.md)\n"
           "  --nonwear-min M        sensor off, flat on a table, for the first M minutes\n"
           "  -v                     one line per recording on stderr\n"
           "  -h, --help             this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm simulate -o study --subjects 6 --nights 1 --fs 50 --seed 1998\n\n"
           "Exit status: 0 written, 1 cannot write, 2 usage error.\n",
           d.subjects, d.nights, d.fs_hz, (unsigned long long)d.seed, d.legs, d.noise_mg, d.drift_mg,
           d.spike_rate_per_h, d.control_plms_per_h, d.magnesium_plms_ratio, d.timezone, d.first_night);
}

static void progress(void *user, int done, int total, const char *rec)
{
    (void)user;
    fprintf(stderr, "actiplm simulate: %d/%d %s\n", done, total, rec);
}

int cmd_simulate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},   {"subjects", required_argument, 0, 's'},
        {"nights", required_argument, 0, 'k'},   {"fs", required_argument, 0, 'f'},
        {"seed", required_argument, 0, 'S'},     {"legs", required_argument, 0, 'l'},
        {"noise-mg", required_argument, 0, 'n'}, {"drift-mg", required_argument, 0, 'd'},
        {"spike-rate", required_argument, 0, 'p'}, {"plms-control", required_argument, 0, 'P'},
        {"mg-ratio", required_argument, 0, 'M'}, {"timezone", required_argument, 0, 'z'},
        {"first-night", required_argument, 0, 'F'}, {"flac", no_argument, 0, 'C'},
        {"nonwear-min", required_argument, 0, 'N'}, {"float", no_argument, 0, 'W'},
        {"preset", required_argument, 0, 'R'}, {"no-tilt", no_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},           {"version", no_argument, 0, 'V'},
        {0, 0, 0, 0}};
    plm_sim_cfg cfg = plm_sim_cfg_default();
    const char *out = NULL;
    int verbose = 0, c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's':
            if (!cli_parse_int("simulate", "--subjects", optarg, 1, 10000, &v)) return EXIT_USAGE;
            cfg.subjects = (int)v;
            break;
        case 'k':
            if (!cli_parse_int("simulate", "--nights", optarg, 1, 30, &v)) return EXIT_USAGE;
            cfg.nights = (int)v;
            break;
        case 'f':
            if (!cli_parse_int("simulate", "--fs", optarg, 10, 1000, &v)) return EXIT_USAGE;
            cfg.fs_hz = (double)v;
            break;
        case 'S':
            if (!cli_parse_u64("simulate", "--seed", optarg, &cfg.seed)) return EXIT_USAGE;
            break;
        case 'l':
            if (!cli_parse_int("simulate", "--legs", optarg, 1, 2, &v)) return EXIT_USAGE;
            cfg.legs = (int)v;
            break;
        case 'n':
            if (!cli_parse_double("simulate", "--noise-mg", optarg, 0, 1000, &cfg.noise_mg)) return EXIT_USAGE;
            break;
        case 'd':
            if (!cli_parse_double("simulate", "--drift-mg", optarg, 0, 1000, &cfg.drift_mg)) return EXIT_USAGE;
            break;
        case 'p':
            if (!cli_parse_double("simulate", "--spike-rate", optarg, 0, 3600, &cfg.spike_rate_per_h)) return EXIT_USAGE;
            break;
        case 'P':
            if (!cli_parse_double("simulate", "--plms-control", optarg, 0, 150, &cfg.control_plms_per_h)) return EXIT_USAGE;
            break;
        case 'M':
            if (!cli_parse_double("simulate", "--mg-ratio", optarg, 0, 3, &cfg.magnesium_plms_ratio)) return EXIT_USAGE;
            break;
        case 'z': cfg.timezone = optarg; break;
        case 'F': cfg.first_night = optarg; break;
        case 'C': cfg.flac = 1; break;
        case 'W': cfg.float_wav = 1; break;
        case 'T': cfg.no_tilt = 1; break;
        case 'R':
            if (!strcmp(optarg, "default")) cfg.preset = PLM_SIM_DEFAULT;
            else if (!strcmp(optarg, "hard")) cfg.preset = PLM_SIM_HARD;
            else return cli_usage_error("simulate", "--preset '%s': expected default or hard", optarg);
            break;
        case 'N':
            if (!cli_parse_double("simulate", "--nonwear-min", optarg, 0, 600, &cfg.nonwear_min)) return EXIT_USAGE;
            break;
        case 'v': verbose = 1; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("simulate", "unknown option");
        }
    }
    if (optind != argc) return cli_usage_error("simulate", "unexpected argument '%s'", argv[optind]);
    if (!out) return cli_usage_error("simulate", "-o DIR is required");
    plm_status st = plm_simulate_study(&cfg, out, verbose ? progress : NULL, NULL);
    if (st == PLM_EINVAL) return cli_usage_error("simulate", "%s", plm_last_error());
    if (st) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    printf("%s: %d recordings (%d subjects x 2 conditions x %d nights)\n", out, cfg.subjects * 2 * cfg.nights,
           cfg.subjects, cfg.nights);
    return 0;
}
