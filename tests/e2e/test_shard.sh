#!/bin/sh
# test_shard.sh -- run --shard K/N, merge and the scripts of `actiplm slurm`, without a cluster:
# shards merged equal one run; every refusal of merge names the file and the reason; the
# written sbatch scripts, run by hand with SLURM_ARRAY_TASK_ID set, produce the same results.
set -u
. "$(pwd)/tests/e2e_lib.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-shard-XXXXXX")
trap 'rm -rf "$T"' EXIT

"$A" simulate -o "$T/st" --subjects 3 --fs 10 --seed 31 >/dev/null 2>&1
echo "S04,control,1,recordings/S04_missing.wav,S04_control_n1,Europe/Berlin,,22:00:00,06:00:00,8" >>"$T/st/manifest.csv"
M="$T/st/manifest.csv"
"$A" run -q "$M" -o "$T/single.h5" >/dev/null 2>&1

# --- shards and merge --------------------------------------------------------------------
for k in 1 2 3; do "$A" run -q --shard $k/3 "$M" -o "$T/p$k.h5" >"$T/out$k" 2>"$T/err$k"; echo $? >"$T/rc$k"; done
check "run --shard K/N takes rows K, K+N, ...: 3 + 2 + 2 of 7, the failing row 7 in shard 1" sh -c "
    grep -q 'shard 1/3: 2 of 3 recordings processed, 1 failed' '$T/out1' && [ \$(cat '$T/rc1') -eq 1 ] &&
    grep -q 'shard 2/3: 2 of 2 recordings processed, 0 failed' '$T/out2' && [ \$(cat '$T/rc2') -eq 0 ] &&
    grep -q 'shard 3/3: 2 of 2' '$T/out3' && grep -q 'S04_missing.wav' '$T/err1'"
check "a shard file has no /stats rows and a /shard table of its manifest rows" /usr/bin/python3 -c "
import h5py, sys
f = h5py.File('$T/p2.h5', 'r')
sys.exit(not (len(f['stats']) == 0 and list(f['shard']['manifest_row']) == [1, 4] and list(f['shard']['failed']) == [0, 0]
              and f.attrs['shard_index'] == 2 and f.attrs['shard_count'] == 3 and f.attrs['manifest_rows'] == 7))"
"$A" run -q --shard 1/3 --allow-failures "$M" -o "$T/p1b.h5" >/dev/null 2>&1; rc=$?
check "--allow-failures: exit 0 when the file is written although a recording failed" [ $rc -eq 0 ]
"$A" merge "$T/p3.h5" "$T/p1.h5" "$T/p2.h5" -o "$T/merged.h5" >"$T/mout" 2>"$T/merr"; rc=$?
check "merge (shards in any order): exit 1 for the failed recording, named on stderr" sh -c "
    [ $rc -eq 1 ] && grep -q 'merged 3 shards: 6 of 7 recordings processed, 1 failed' '$T/mout' && grep -q 'S04_missing.wav' '$T/merr'"
check "merged file equals the single run, dataset for dataset, incl. /stats" $CHECK --same "$T/single.h5" "$T/merged.h5"
check "merged file has the root attributes of a run (version, parameters) and no shard ones" /usr/bin/python3 -c "
import h5py, sys
a = h5py.File('$T/merged.h5', 'r').attrs; b = h5py.File('$T/single.h5', 'r').attrs
sys.exit(not (a['params_fingerprint'] == b['params_fingerprint'] and a['software_version'] == b['software_version']
              and a['manifest_sha256'] == b['manifest_sha256'] and a['param.score.rules'] == b['param.score.rules']
              and 'shard_index' not in a and a['merged_shards'] == 3))"

# --- refusals ----------------------------------------------------------------------------
refuse() { # refuse DESCRIPTION EXPECTED-TEXT merge-args...
    d=$1; want=$2; shift 2
    "$A" merge "$@" -o "$T/refused.h5" >/dev/null 2>"$T/rerr"; rc=$?
    check "merge refuses $d: exit 1, one line" sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/rerr') -eq 1 ] && grep -q -- \"$want\" '$T/rerr' && [ ! -e '$T/refused.h5' ] ||
        { echo 'exit $rc, stderr:'; cat '$T/rerr'; ls -l '$T'; false; }"
}
refuse "a missing shard, naming it" "1 of 3 shards missing: 2/3" "$T/p1.h5" "$T/p3.h5"
refuse "a shard given twice" "shard 1/3 is also" "$T/p1.h5" "$T/p1b.h5" "$T/p2.h5" "$T/p3.h5"
"$A" run -q --shard 2/3 --rules aasm2007 "$M" -o "$T/q2.h5" >/dev/null 2>&1
refuse "shards made with other parameters" "q2.h5: made with other parameters than" "$T/p1.h5" "$T/q2.h5" "$T/p3.h5"
"$A" run -q --shard 2/4 "$M" -o "$T/r2.h5" >/dev/null 2>&1
refuse "shards of another split" "r2.h5: is shard 2 of 4" "$T/p1.h5" "$T/r2.h5" "$T/p3.h5"
cp -r "$T/st" "$T/st2" && echo "S05,control,1,recordings/S01_control_n1.wav,S05_control_n1,Europe/Berlin,,22:00:00,06:00:00,8" >>"$T/st2/manifest.csv"
"$A" run -q --shard 2/3 "$T/st2/manifest.csv" -o "$T/o2.h5" >/dev/null 2>&1
refuse "shards of another manifest" "o2.h5: made from another manifest" "$T/p1.h5" "$T/o2.h5" "$T/p3.h5"
refuse "a results file that is not a shard" "single.h5: not a shard file" "$T/single.h5"
refuse "a missing file" "nothere.h5: cannot open: No such file" "$T/nothere.h5"
"$A" merge "$T/p1.h5" 2>"$T/rerr"; rc=$?
check "merge without -o is a usage error (exit 2)" sh -c "[ $rc -eq 2 ] && grep -q 'required' '$T/rerr'"
"$A" run --shard 4/3 "$M" -o "$T/x.h5" 2>"$T/rerr"; rc=$?
check "run --shard 4/3 is a usage error (exit 2)" sh -c "[ $rc -eq 2 ] && grep -q \"'4/3' is not K/N\" '$T/rerr'"

# --- actiplm slurm without --submit: the scripts, run by hand ---------------------------------
mkdir "$T/out dir"
"$A" slurm "$T/st" -o "$T/out dir/res.h5" --tasks 3 --sleep sadeh -- --time=00:10:00 >"$T/sout" 2>"$T/serr"; rc=$?
D="$T/out dir/res.h5.slurm"
check "slurm writes shard.sbatch and merge.sbatch and prints the two sbatch commands" sh -c "
    [ $rc -eq 0 ] && [ -x '$D/shard.sbatch' ] && [ -x '$D/merge.sbatch' ] && grep -q '3 to run: 1-3' '$T/sout' &&
    grep -q \"array=1-3 '--time=00:10:00'\" '$T/sout' && grep -q 'dependency=afterok:\\\$jid' '$T/sout' &&
    grep -q \"'--sleep' 'sadeh'\" '$D/shard.sbatch'"
for k in 1 2 3; do (cd "$T" && SLURM_ARRAY_TASK_ID=$k sh "$D/shard.sbatch" >/dev/null 2>&1); done
(cd / && sh "$D/merge.sbatch" >/dev/null 2>&1); rc=$?
"$A" run -q --sleep sadeh "$M" -o "$T/single_sadeh.h5" >/dev/null 2>&1
check "the scripts run by hand (any folder, a path with a space) give the single run's datasets; merge exits 0" sh -c "
    [ $rc -eq 0 ] && $CHECK --same '$T/single_sadeh.h5' '$T/out dir/res.h5'"
"$A" slurm "$T/st" -o "$T/out dir/res.h5" --tasks 3 --sleep sadeh >"$T/sout" 2>&1
check "slurm again: every shard file present, nothing left to run, only the merge to submit" sh -c "
    grep -q '0 to run' '$T/sout' && ! grep -q 'array=' '$T/sout' && grep -q '^  sbatch --job-name=actiplm-merge .*merge.sbatch' '$T/sout' &&
    ! grep -q dependency '$T/sout'"
"$A" slurm "$T/st" -o "$T/out dir/res.h5" --tasks 3 >"$T/sout" 2>&1
check "slurm with other parameters: every shard must run again" grep -q '3 to run: 1-3' "$T/sout"
"$A" slurm "$T/st" -o "$T/five.h5" --tasks 5 >/dev/null 2>&1
for k in 1 3; do "$A" run -q --shard $k/5 --allow-failures "$M" -o "$T/five.h5.slurm/shard-$k-of-5.h5" >/dev/null 2>&1; done
echo "slurmstepd: error: *** JOB 7 ON n2 CANCELLED DUE TO TIME LIMIT ***" >"$T/five.h5.slurm/shard-2.log"
"$A" slurm "$T/st" -o "$T/five.h5" --tasks 5 >"$T/sout" 2>"$T/serr"
check "slurm with shards 1 and 3 of 5 done: runs 2,4-5 and quotes shard 2's log" sh -c "
    grep -q '3 to run: 2,4-5' '$T/sout' && grep -q -- '--array=2,4-5 ' '$T/sout' &&
    grep -q 'shard 2/5 has no shard file; its log .*shard-2.log ends: slurmstepd: error: .*TIME LIMIT' '$T/serr'"
"$A" slurm "$T/st" -o "$T/out dir/res.h5" 2>"$T/serr"; rc=$?
check "slurm without --tasks is a usage error" sh -c "[ $rc -eq 2 ] && grep -q -- '--tasks N is required' '$T/serr'"

echo "# shard: $n checks"
