/* convert.c -- actiplm convert: a recording's decoded signal as HDF5, WAV, FLAC or CSV. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm convert [options] RECORDING [--right RECORDING2] -o OUT\n\n"
           "Write the decoded signal of any readable recording (WAV, FLAC, EDF, Axivity CWA,\n"
           "GENEActiv .bin, ActiGraph .gt3x) for other tools:\n"
           "  OUT.h5    accel_g (N x 3, g; N x 6 for both legs, left then right) and\n"
           "            time_unix_s of every sample at the file's own\n"
           "            sample times, gyro_dps, temperature_c and light where the device has\n"
           "            them, gaps as NaN rows and in the table gaps; attributes fs_hz\n"
           "            (observed), fs_nominal_hz, start_utc, device, serial\n"
           "  OUT.wav   32-bit float WAV in g at the nominal rate (resampled from the sample\n"
           "            times), start in the bext chunk, full scale in the comment\n"
           "  OUT.flac  the same as 16-bit FLAC of the full scale (gaps become 0), start and\n"
           "            full scale in the comment\n"
           "  OUT.csv   time_unix_s,x_g,y_g,z_g of every sample (empty cells in gaps)\n"
           "actiplm info and run read the WAV and FLAC back with the same start and scale.\n\n"
           "Options:\n"
           "  -o, --output OUT   output path without extension (required)\n"
           "  --to LIST          h5, wav, flac, csv, comma separated (default h5,wav)\n"
           "  --timezone TZ      IANA zone of the file's local times (devices' clocks have none)\n"
           "  --channels MAP     which leg, e.g. R=4,5,6 for the right leg of a 6-channel file\n"
           "  --right FILE2      the right ankle's own file: RECORDING is then the left's and\n"
           "                     OUT holds both legs on RECORDING's samples (see actiplm info)\n"
           "  --full-scale-g G   full scale of integer WAV/FLAC samples in g\n"
           "  -h, --help         this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm convert night1.cwa --timezone Europe/Berlin -o night1 --to h5,wav\n\n"
           "Exit status: 0 written, 1 the recording could not be read or an output not written,\n"
           "2 usage error.\n");
}

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},   {"to", required_argument, 0, 't'},
                                         {"timezone", required_argument, 0, 'z'}, {"channels", required_argument, 0, 'c'},
                                         {"full-scale-g", required_argument, 0, 'g'}, {"help", no_argument, 0, 'h'},
                                         {"right", required_argument, 0, 'r'},
                                         {"version", no_argument, 0, 'V'},        {0, 0, 0, 0}};
    plm_read_cfg cfg = plm_read_cfg_default();
    const char *out = NULL;
    char to[64] = "h5,wav";
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 't': snprintf(to, sizeof to, "%s", optarg); break;
        case 'z': cfg.timezone = optarg; break;
        case 'c': cfg.channels = optarg; break;
        case 'r': cfg.right_path = optarg; break;
        case 'g':
            if (!cli_parse_double("convert", "--full-scale-g", optarg, 1e-6, 1000, &cfg.full_scale_g)) return EXIT_USAGE;
            break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("convert", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("convert", "expected one RECORDING");
    if (!out) return cli_usage_error("convert", "-o OUT is required");
    unsigned outputs = 0;
    for (char *tok = strtok(to, ","); tok; tok = strtok(NULL, ",")) {
        if (!strcmp(tok, "h5")) outputs |= PLM_CONVERT_H5;
        else if (!strcmp(tok, "wav")) outputs |= PLM_CONVERT_WAV;
        else if (!strcmp(tok, "flac")) outputs |= PLM_CONVERT_FLAC;
        else if (!strcmp(tok, "csv")) outputs |= PLM_CONVERT_CSV;
        else return cli_usage_error("convert", "--to: '%s' is not h5, wav, flac or csv", tok);
    }
    plm_convert_result res;
    if (plm_convert(argv[optind], &cfg, out, outputs, &res) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    printf("%s: %lld samples read", argv[optind], (long long)res.frames_in);
    if (res.frames_out) printf("; %lld written at %g Hz to the WAV/FLAC", (long long)res.frames_out, res.rate_out_hz);
    printf("\n");
    return 0;
}
