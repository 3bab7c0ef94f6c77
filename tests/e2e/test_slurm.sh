#!/bin/sh
# test_slurm.sh -- actiplm slurm / run --shard / merge on a real Slurm cluster of two slurmd
# nodes, started on loopback by ../shared/tools/slurm-local (Debian's slurmctld, slurmd, munge).
# Checks: the job array spreads over both nodes; the merge job runs after it (afterok); the
# merged file equals a single-machine run dataset for dataset; a failed shard cancels the merge,
# leaves its log and the earlier results untouched, and a second `actiplm slurm` resubmits only
# that shard. Skips (as root only; the daemons run as root) when Slurm or the scripts are absent.
set -u
. "$(pwd)/tests/e2e_lib.sh"
SHARED=$(cd "${ACTIPLM_SHARED:-../shared}" 2>/dev/null && pwd)
SL="$SHARED/tools/slurm-local/slurm-local.sh"
NCHECKS=11
why=""
[ "$(id -u)" = 0 ] || why="not root (the test cluster's daemons run as root)"
for c in slurmctld slurmd sbatch squeue munged; do
    command -v $c >/dev/null 2>&1 || why="${why:-$c not installed (apt-get install slurmctld slurmd slurm-client munge)}"
done
[ -x "$SL" ] || why="${why:-../shared/tools/slurm-local absent}"
if [ -n "$why" ]; then
    i=0
    while [ $i -lt $NCHECKS ]; do i=$((i + 1)); echo "skip $i - slurm: $why"; done
    exit 0
fi

T=$(mktemp -d /tmp/actiplm-slurm-XXXXXX) && chmod 755 "$T"  # munged wants o+x on the socket path
export SLURM_LOCAL_BASE="$T/cluster" SLURM_LOCAL_NODES=2 SLURM_LOCAL_CPUS=1
export SLURM_LOCAL_CTLPORT=${ACTIPLM_SLURM_PORT:-16917} SLURM_LOCAL_DPORT=$((${ACTIPLM_SLURM_PORT:-16917} + 1))
export SLURM_CONF="$T/cluster/slurm.conf"
cleanup() { "$SL" stop >/dev/null 2>&1; [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT
trap 'cleanup; trap - EXIT; exit 1' HUP INT PIPE TERM
if ! "$SL" start >"$T/start.log" 2>&1; then
    notok "slurm: a two-node cluster starts on loopback" "$(cat "$T/start.log")"
    exit 1
fi
ok "slurm: a two-node cluster (n1, n2) starts on loopback"

# Wait until none of the given jobs is pending or running (at most 180 s).
wait_jobs() {
    i=0
    while [ $i -lt 1800 ]; do
        left=""
        for j in "$@"; do left="$left$(squeue -h -j "$j" -o %i 2>/dev/null)"; done
        [ -z "$left" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
state() { scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | head -1; }

# A study of 8 nights plus one manifest row whose file is missing (a failure the merge must carry).
"$A" simulate -o "$T/study" --subjects 4 --fs 10 --seed 77 >/dev/null 2>&1
echo "S05,control,1,recordings/S05_missing.wav,S05_control_n1,Europe/Berlin,,22:00:00,06:00:00,8" >>"$T/study/manifest.csv"
"$A" run -q -j 2 "$T/study/manifest.csv" -o "$T/single.h5" >/dev/null 2>&1

# --- 1. submit: 3 shard tasks over 2 nodes, then the merge --------------------------------
cd "$T" || exit 1
"$A" slurm "$T/study" -o "$T/merged.h5" --tasks 3 --submit >"$T/sub.out" 2>"$T/sub.err"; rc=$?
JID=$(sed -n 's/^shards: job \([0-9]*\) .*/\1/p' "$T/sub.out")
MID=$(sed -n 's/^merge: job \([0-9]*\) .*/\1/p' "$T/sub.out")
check "slurm --submit prints the job ids of the 3-task array and of the merge job" \
    sh -c "[ $rc -eq 0 ] && [ -n '$JID' ] && [ -n '$MID' ] && grep -q 'array 1-3 of 1-3' '$T/sub.out'"
wait_jobs "$JID" "$MID"
nodes=$(grep "ArrayJobId=$JID " "$T/cluster/log/jobcomp.txt" | sed -n 's/.*NodeList=\([^ ]*\).*/\1/p' | sort -u | tr '\n' ' ')
check "the shard tasks all completed, spread over both nodes (ran on: $nodes)" sh -c "
    [ \$(grep \"ArrayJobId=$JID \" '$T/cluster/log/jobcomp.txt' | grep -c 'JobState=COMPLETED') -eq 3 ] &&
    [ '$nodes' = 'n1 n2 ' ]"
# from the job-completion log: the merge completed and started no earlier than the last task ended
last_end=$(grep "ArrayJobId=$JID " "$T/cluster/log/jobcomp.txt" | sed -n 's/.*EndTime=\([^ ]*\).*/\1/p' | sort | tail -1)
m_start=$(grep "^JobId=$MID " "$T/cluster/log/jobcomp.txt" | sed -n 's/.*StartTime=\([^ ]*\).*/\1/p')
check "the merge job completed, started after the last shard task ended ($last_end <= $m_start)" sh -c "
    grep '^JobId=$MID ' '$T/cluster/log/jobcomp.txt' | grep -q 'JobState=COMPLETED' &&
    [ -n '$last_end' ] && [ '$m_start' '>' '$last_end' -o '$m_start' = '$last_end' ]"
check "merged file equals the single-machine run, dataset for dataset (/nights, /failures, /stats, every recording)" \
    $CHECK --same "$T/single.h5" "$T/merged.h5"
check "the failed recording is in the merged /failures and named in the merge log" sh -c "
    grep -q 'S05_missing.wav' '$T/merged.h5.slurm/merge.log' &&
    /usr/bin/python3 -c \"import h5py,sys; f=h5py.File('$T/merged.h5','r'); sys.exit(not (len(f['failures'])==1 and len(f['nights'])==8 and f['failures']['recording'][0]==b'S05_control_n1'))\""

# --- 2. a shard that fails: its output path is a folder, so its file cannot be written ------
cp "$T/merged.h5" "$T/merged.before"
rm -f "$T/merged.h5.slurm/shard-2-of-3.h5"
mkdir "$T/merged.h5.slurm/shard-2-of-3.h5"
"$A" slurm "$T/study" -o "$T/merged.h5" --tasks 3 --submit >"$T/sub2.out" 2>"$T/sub2.err"; rc=$?
JID=$(sed -n 's/^shards: job \([0-9]*\) .*/\1/p' "$T/sub2.out")
MID=$(sed -n 's/^merge: job \([0-9]*\) .*/\1/p' "$T/sub2.out")
check "a second slurm submits only the missing shard (array 2 of 1-3)" sh -c "[ $rc -eq 0 ] && grep -q 'array 2 of 1-3' '$T/sub2.out'"
wait_jobs "$JID" "$MID"
check "the failed shard task leaves a log saying why; Slurm cancels the merge (DependencyNeverSatisfied)" sh -c "
    [ '$(state "$JID")' = FAILED ] && grep -q 'shard-2-of-3.h5: is a folder, not a results file' '$T/merged.h5.slurm/shard-2.log' &&
    [ '$(state "$MID")' = CANCELLED ] && scontrol -o show job '$MID' | grep -q 'Reason=DependencyNeverSatisfied'"
check "the earlier merged results are untouched" cmp "$T/merged.before" "$T/merged.h5"

# --- 3. fix the cause and rerun: only shard 2 again, then the merge ------------------------
rmdir "$T/merged.h5.slurm/shard-2-of-3.h5"
"$A" slurm "$T/study" -o "$T/merged.h5" --tasks 3 --submit >"$T/sub3.out" 2>"$T/sub3.err"; rc=$?
JID=$(sed -n 's/^shards: job \([0-9]*\) .*/\1/p' "$T/sub3.out")
MID=$(sed -n 's/^merge: job \([0-9]*\) .*/\1/p' "$T/sub3.out")
check "the rerun names the failed shard and its log, and resubmits only it" sh -c "
    [ $rc -eq 0 ] && grep -q 'shard 2/3 has no shard file; its log .*shard-2.log ends: .*is a folder, not a results file' '$T/sub3.err' &&
    grep -q 'array 2 of 1-3' '$T/sub3.out'"
wait_jobs "$JID" "$MID"
check "after the rerun the merged file again equals the single-machine run" sh -c "
    [ '$(state "$MID")' = COMPLETED ] && $CHECK --same '$T/single.h5' '$T/merged.h5'"
