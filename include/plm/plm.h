/* plm/plm.h -- libplm umbrella header.
 *
 * libplm turns leg-accelerometer recordings from sleep studies into leg
 * movements, periodic-limb-movement indices and sleep measures, stored in one
 * HDF5 file. Stages: read.h (recordings), manifest.h (study list),
 * process.h (one recording end to end), store.h (HDF5), simulate.h
 * (synthetic studies with ground truth), timeutil.h, csv.h.
 * Conventions (types.h): sample indices inside a recording, g for
 * acceleration, units in names; every fallible function returns plm_status.
 */
#ifndef PLM_PLM_H
#define PLM_PLM_H

#include "batch.h"
#include "calibrate.h"
#include "compare.h"
#include "convert.h"
#include "csv.h"
#include "detect.h"
#include "events.h"
#include "export.h"
#include "figure.h"
#include "filter.h"
#include "manifest.h"
#include "night.h"
#include "nights.h"
#include "process.h"
#include "report.h"
#include "score.h"
#include "read.h"
#include "simulate.h"
#include "sleepwake.h"
#include "stats.h"
#include "study.h"
#include "status.h"
#include "store.h"
#include "timeutil.h"
#include "types.h"

#define PLM_VERSION_STRING "0.4.0"

/* Library version, "0.4.0". */
const char *plm_version(void);

#endif
