#!/usr/bin/env bash
# Boots a guest (KVM, or qemu's TCG emulator, see ACCEL below) with Debian's kernel and cgroup v2 alone (cgroup_no_v1=all)
# and runs a command in it, with the project dir as its cwd:
#
#   bash test/vm/run.sh [command...]      (npm run test:vm)
#
# Without a command it runs the cgroup v2 checks (run.sh --cgroup-checks N):
# the smoke run below (run.sh --smoke), the cgroups e2e file
# (node node_modules/uvu/bin.js test/e2e cgroups, in N parallel shards) and
# the conformance suite's linux.resources cases (conformance/run.js 'resources-*').
#
# The guest's root is the host's / (read only, 9p) under a tmpfs overlay: it
# runs this checkout's dist/ with the host's node; whatever it writes stays in
# its RAM. Builds the guest first (test/vm/build.sh, cached in .tmp/vm) and, on
# the host, `npm run build` (skipped with TSRUNC_VM_NO_NPM_BUILD=1). Streams the
# guest's console to stdout and exits with the command's exit status; 124 when
# the guest ran out of time, 125 when it failed before or around the command.
#
# The systemd flavour boots systemd as PID 1 instead (cgroup v2 alone as well:
# systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all), with the system bus
# (dbus-daemon, /run/dbus/system_bus_socket), for the systemd cgroup driver:
#
#   TSRUNC_VM_INIT=systemd bash test/vm/run.sh [command...]
#
# Once tsrunc-vm.target is reached (basic.target and dbus; see
# test/vm/systemd/) it runs the command as root from the project dir in
# tsrunc-vm-cmd.service (system.slice, Delegate=yes), its output on the
# console, then writes its exit status and powers off; same exit statuses.
# Without a command it runs the systemd checks (run.sh --systemd-checks: the
# probe, the systemd driver's e2e file and the callers on systemd). The host's
# /lib/systemd/systemd and dbus-daemon are the guest's: build.sh installs
# systemd and dbus when missing.
#
# Its cgroup v1 hybrid variant boots systemd with its hybrid layout instead
# (no cgroup_no_v1; systemd.unified_cgroup_hierarchy=0
# systemd.legacy_systemd_cgroup_controller=0): each v1 controller mounted as
# its own hierarchy at /sys/fs/cgroup/<controller>, the unified hierarchy
# (no controllers; systemd tracks its units there) at /sys/fs/cgroup/unified:
#
#   TSRUNC_VM_INIT=systemd TSRUNC_VM_CGROUP=hybrid bash test/vm/run.sh [command...]
#
# Same units, same default command (--systemd-checks; its probe checks the
# v1 side: MemoryLimit=/MemoryMax= in memory.limit_in_bytes, and runc
# --systemd-cgroup on v1 as the reference driver).
#
# Environment:
#   TSRUNC_VM_INIT      busybox (default: busybox sh as PID 1) or systemd
#   TSRUNC_VM_CGROUP    v2 (default: cgroup v2 alone) or hybrid (with
#                       TSRUNC_VM_INIT=systemd only: systemd's v1 hybrid layout)
#   TSRUNC_VM_ACCEL     kvm, tcg or auto (default): kvm where /dev/kvm can run a
#                       stock kernel (hardware vmx/svm, not PVM), else tcg
#   TSRUNC_VM_TIMEOUT   seconds before qemu is killed (default 480; 900 under tcg)
#   TSRUNC_VM_MEM       guest memory in MiB (default 2048)
#   TSRUNC_VM_CPUS      vCPUs (default 2)
#   TSRUNC_VM_SHARDS    parallel shards of the cgroups e2e file (default: vCPUs)
#   TSRUNC_VM_SKIP      regexp of cgroups e2e test names to skip (default: none
#                       under kvm; under tcg the three version-independent
#                       ones, see below; TSRUNC_VM_SKIP= runs them all)
#   TSRUNC_VM_ALONE     regexp of cgroups e2e test names run after the shards,
#                       by themselves (default: none under kvm, the OOM test
#                       under tcg)
#   TSRUNC_VM_DIR       cache dir of build.sh (default <project>/.tmp/vm)
#   TSRUNC_VM_TCG_CPU   qemu -cpu under tcg (default max,-avx,-avx2)
#   TSRUNC_VM_APPEND    more kernel parameters
#   TSRUNC_*, CI        passed on to the command (except TSRUNC_VM_*)
#
#   bash test/vm/run.sh --criu-checks   (as the guest's command) checkpoint and
#     restore with CRIU: criu check, then test/e2e/checkpoint.test.js (the host
#     may have a kernel CRIU cannot work with; this guest's is Debian's).
#   bash test/vm/run.sh --smoke    (inside the guest) the smoke run alone:
#     create/start/state/kill/delete of a busybox container with memory and
#     pids limits, memory.max and pids.max checked in its cgroup.
#   bash test/vm/run.sh --systemd-probe   (inside the systemd guest) systemd is
#     PID 1 and running, on cgroup2, on the system bus; a transient scope made
#     with systemd-run gets its MemoryMax and is gone after its process. On
#     the hybrid layout: scopes made with MemoryLimit=64M and MemoryMax=64M get
#     memory.limit_in_bytes 67108864 in the v1 memory hierarchy and are
#     tracked in the unified one; runc --systemd-cgroup runs a busybox
#     container in runc-hy1.scope (MemoryLimit, Delegate=yes) and deletes it.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT=$(cd "$HERE/../.." && pwd -P)

# ---------------------------------------------------------------------------
# --smoke: runs in the guest
smoke() {
  set -u
  local tsrunc="$PROJECT/bin/tsrunc" dir root id st pid cg status end
  step() { echo "TSRUNC-VM-SMOKE ok: $* (${SECONDS}s)"; }
  bad() {
    echo "TSRUNC-VM-SMOKE FAIL: $*"
    [ -n "${id:-}" ] && "$tsrunc" --root "$root" delete --force "$id" >/dev/null 2>&1
    exit 1
  }
  # a field of the state JSON (no node: each node start costs seconds under TCG)
  field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\).*/\1/p"; }
  [ -f /sys/fs/cgroup/cgroup.controllers ] || bad "not a cgroup v2 host (no /sys/fs/cgroup/cgroup.controllers)"
  dir=$(mktemp -d /tmp/tsrunc-vm-smoke.XXXXXX)
  root="$dir/state"
  id="vm-smoke-$$"
  cd "$PROJECT" || bad "cd $PROJECT"
  node scripts/busybox-rootfs.js "$dir/rootfs" || bad "busybox rootfs (scripts/busybox-rootfs.js)"
  (cd "$dir" && "$tsrunc" spec) || bad "tsrunc spec"
  node -e '
    const fs = require("fs");
    const f = process.argv[1];
    const c = JSON.parse(fs.readFileSync(f, "utf8"));
    c.process.terminal = false;
    c.process.args = ["sleep", "1000"];
    c.linux.resources = { ...c.linux.resources, memory: { limit: 67108864 }, pids: { limit: 32 } };
    fs.writeFileSync(f, JSON.stringify(c, null, 2));
  ' "$dir/config.json" || bad "editing config.json"
  step "bundle from tsrunc spec with memory.limit 67108864 and pids.limit 32"

  "$tsrunc" --root "$root" create --bundle "$dir" "$id" || bad "tsrunc create"
  st=$("$tsrunc" --root "$root" state "$id") || bad "tsrunc state after create"
  status=$(field status <<<"$st")
  pid=$(field pid <<<"$st")
  [ "$status" = created ] || bad "status after create: $status ($st)"
  [ "$pid" -gt 0 ] 2>/dev/null || bad "pid after create: $pid ($st)"
  step "create: status created, pid $pid"

  cg=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
  [ -n "$cg" ] || bad "no v2 cgroup in /proc/$pid/cgroup: $(cat "/proc/$pid/cgroup")"
  cg="/sys/fs/cgroup${cg%/}"
  [ "$(cat "$cg/memory.max" 2>&1)" = 67108864 ] || bad "$cg/memory.max: $(cat "$cg/memory.max" 2>&1), want 67108864"
  [ "$(cat "$cg/pids.max" 2>&1)" = 32 ] || bad "$cg/pids.max: $(cat "$cg/pids.max" 2>&1), want 32"
  step "cgroup $cg: memory.max 67108864, pids.max 32"

  "$tsrunc" --root "$root" start "$id" || bad "tsrunc start"
  status=$("$tsrunc" --root "$root" state "$id" | field status)
  [ "$status" = running ] || bad "status after start: $status"
  end=$((SECONDS + 10))
  until [ "$(tr '\0' ' ' < "/proc/$pid/cmdline")" = "sleep 1000 " ] || [ $SECONDS -gt $end ]; do sleep 0.1; done
  [ "$(tr '\0' ' ' < "/proc/$pid/cmdline")" = "sleep 1000 " ] || bad "the container's process is not sleep 1000: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
  grep -qx "$pid" "$cg/cgroup.procs" || bad "pid $pid not in $cg/cgroup.procs"
  step "start: status running, sleep 1000 in the cgroup"

  "$tsrunc" --root "$root" kill "$id" KILL || bad "tsrunc kill"
  end=$((SECONDS + 30))
  until status=$("$tsrunc" --root "$root" state "$id" | field status); [ "$status" = stopped ] || [ $SECONDS -gt $end ]; do sleep 0.2; done
  [ "$status" = stopped ] || bad "status after kill: $status"
  step "kill KILL: status stopped"

  "$tsrunc" --root "$root" delete "$id" || bad "tsrunc delete"
  [ ! -e "$root/$id" ] || bad "state dir $root/$id left after delete"
  [ ! -e "$cg" ] || bad "cgroup $cg left after delete"
  "$tsrunc" --root "$root" state "$id" >/dev/null 2>&1 && bad "state after delete succeeds"
  id=
  step "delete: no state dir, no cgroup dir"
  rm -rf "$dir"
  echo "TSRUNC-VM-SMOKE passed"
}

# --systemd-probe: runs in the systemd guest, on either cgroup layout
# (TSRUNC_VM_CGROUP=v2: cgroup2 alone; hybrid: v1 hierarchies under
# /sys/fs/cgroup and the unified one at /sys/fs/cgroup/unified)
systemd_probe() {
  local unit="tsrunc-vm-probe-$$" state out cg ucg end layout v1 prop rid= rdir pid
  step() { echo "TSRUNC-VM-PROBE ok: $*"; }
  bad() {
    echo "TSRUNC-VM-PROBE FAIL: $*"
    [ -n "$rid" ] && runc --root "$rdir/state" delete --force "$rid" >/dev/null 2>&1
    exit 1
  }
  [ "$(cat /proc/1/comm)" = systemd ] || bad "PID 1 is $(cat /proc/1/comm), not systemd"
  step "PID 1: $(tr '\0' ' ' </proc/1/cmdline)($(systemctl --version | head -n 1))"
  state=$(timeout 120 systemctl is-system-running --wait 2>&1)
  [ "$state" = running ] || bad "systemctl is-system-running --wait: $state; failed units: $(systemctl --failed --plain --no-legend 2>&1 | tr '\n' ' ')"
  step "systemctl is-system-running --wait: $state"
  case $(stat -f -c %T /sys/fs/cgroup) in
    cgroup2fs)
      layout=v2
      step "/sys/fs/cgroup is cgroup2fs; this command's cgroup: $(sed -n 's/^0:://p' /proc/self/cgroup)"
      ;;
    tmpfs)
      layout=hybrid
      [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>&1)" = cgroup2fs ] || bad "/sys/fs/cgroup is a tmpfs (v1) but /sys/fs/cgroup/unified is not cgroup2 (not the hybrid layout)"
      [ "$(stat -f -c %T /sys/fs/cgroup/memory 2>&1)" = cgroupfs ] || bad "no v1 memory hierarchy at /sys/fs/cgroup/memory"
      v1=$(sed -n 's/^[0-9]*:\([^:]\{1,\}\):.*/\1/p' /proc/self/cgroup | sort | tr '\n' ' ')
      step "/sys/fs/cgroup is the hybrid layout: v1 hierarchies ${v1% }, unified at /sys/fs/cgroup/unified; this command's cgroup: $(sed -n 's/^0:://p' /proc/self/cgroup) (memory: $(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup))"
      ;;
    *) bad "/sys/fs/cgroup is $(stat -f -c %T /sys/fs/cgroup), neither cgroup2fs nor systemd's hybrid layout" ;;
  esac
  out=$(busctl --system status org.freedesktop.systemd1 2>&1) || bad "busctl --system status org.freedesktop.systemd1: $out"
  grep -qx 'PID=1' <<<"$out" || bad "org.freedesktop.systemd1 on the system bus is not PID 1: $out"
  step "system bus: org.freedesktop.systemd1 is PID 1 ($(grep -m1 '^UniqueName=' <<<"$out"))"
  if [ $layout = v2 ]; then
    out=$(systemd-run --quiet --scope --unit="$unit" -p MemoryMax=64M sh -c \
      "cat /proc/self/cgroup; cat /sys/fs/cgroup/system.slice/$unit.scope/memory.max; systemctl show -p ActiveState,MemoryMax,Slice $unit.scope" 2>&1) ||
      bad "systemd-run --scope --unit=$unit -p MemoryMax=64M: $out"
    cg="/sys/fs/cgroup/system.slice/$unit.scope"
    grep -qx "0::/system.slice/$unit.scope" <<<"$out" || bad "the scope's process is not in /system.slice/$unit.scope: $out"
    grep -qx 67108864 <<<"$out" || bad "$cg/memory.max is not 67108864: $out"
    grep -qx 'ActiveState=active' <<<"$out" || bad "$unit.scope not active while its process runs: $out"
    step "systemd-run --scope --unit=$unit -p MemoryMax=64M: $(tr '\n' ' ' <<<"$out")"
    end=$((SECONDS + 20))
    while { [ -d "$cg" ] || [ "$(systemctl is-active "$unit.scope")" = active ]; } && [ $SECONDS -lt $end ]; do sleep 0.2; done
    [ ! -d "$cg" ] || bad "$cg is left after its process exited"
    state=$(systemctl is-active "$unit.scope")
    [ "$state" != active ] || bad "$unit.scope is still active after its process exited"
    step "after its process: $unit.scope $state, $cg gone"
    echo "TSRUNC-VM-PROBE passed"
    return
  fi

  # hybrid: a scope's limit goes to the v1 memory hierarchy, its processes
  # are tracked in the unified one; MemoryLimit= (v1's property) and
  # MemoryMax= (v2's, which systemd applies as memory.limit_in_bytes on v1)
  for prop in MemoryLimit MemoryMax; do
    unit="tsrunc-vm-probe-$$-${prop,,}"
    cg="/sys/fs/cgroup/memory/system.slice/$unit.scope"
    ucg="/sys/fs/cgroup/unified/system.slice/$unit.scope"
    out=$(systemd-run --quiet --scope --unit="$unit" -p "$prop=64M" sh -c \
      "cat /proc/self/cgroup; cat $cg/memory.limit_in_bytes; systemctl show -p ActiveState,$prop,Slice $unit.scope" 2>&1) ||
      bad "systemd-run --scope --unit=$unit -p $prop=64M: $out"
    grep -qx "0::/system.slice/$unit.scope" <<<"$out" || bad "the scope's process is not in /system.slice/$unit.scope of the unified hierarchy: $out"
    grep -qE "^[0-9]+:memory:/system.slice/$unit.scope\$" <<<"$out" || bad "the scope's process is not in /system.slice/$unit.scope of the v1 memory hierarchy: $out"
    grep -qx 67108864 <<<"$out" || bad "$cg/memory.limit_in_bytes is not 67108864: $out"
    grep -qx "$prop=67108864" <<<"$out" || bad "$unit.scope's $prop is not 67108864: $out"
    grep -qx 'ActiveState=active' <<<"$out" || bad "$unit.scope not active while its process runs: $out"
    step "systemd-run --scope --unit=$unit -p $prop=64M: $(tr '\n' ' ' <<<"$out")"
    end=$((SECONDS + 20))
    while { [ -d "$cg" ] || [ -d "$ucg" ] || [ "$(systemctl is-active "$unit.scope")" = active ]; } && [ $SECONDS -lt $end ]; do sleep 0.2; done
    [ ! -d "$cg" ] || bad "$cg is left after its process exited"
    [ ! -d "$ucg" ] || bad "$ucg is left after its process exited"
    state=$(systemctl is-active "$unit.scope")
    [ "$state" != active ] || bad "$unit.scope is still active after its process exited"
    step "after its process: $unit.scope $state, $cg and $ucg gone"
  done

  # runc's systemd driver on v1 (the reference for tsrunc's): a busybox
  # container in runc-hy1.scope, its memory limit as the scope's MemoryLimit=
  if ! command -v runc >/dev/null; then
    step "runc --systemd-cgroup: skipped, no runc on this machine"
    echo "TSRUNC-VM-PROBE passed"
    return
  fi
  rdir=$(mktemp -d /tmp/tsrunc-vm-runc.XXXXXX)
  cg=/sys/fs/cgroup/memory/system.slice/runc-hy1.scope
  ucg=/sys/fs/cgroup/unified/system.slice/runc-hy1.scope
  node "$PROJECT/scripts/busybox-rootfs.js" "$rdir/rootfs" || bad "busybox rootfs (scripts/busybox-rootfs.js)"
  (cd "$rdir" && runc spec) || bad "runc spec"
  node -e '
    const fs = require("fs");
    const f = process.argv[1];
    const c = JSON.parse(fs.readFileSync(f, "utf8"));
    c.process.terminal = false;
    c.process.args = ["sleep", "1000"];
    c.linux.cgroupsPath = "system.slice:runc:hy1";
    c.linux.resources = { ...c.linux.resources, memory: { limit: 67108864 } };
    fs.writeFileSync(f, JSON.stringify(c, null, 2));
  ' "$rdir/config.json" || bad "editing config.json"
  rid=hy1
  runc --root "$rdir/state" --systemd-cgroup run -d --bundle "$rdir" hy1 </dev/null >"$rdir/out" 2>&1 ||
    bad "runc --systemd-cgroup run -d hy1 (cgroupsPath system.slice:runc:hy1): $(cat "$rdir/out")"
  pid=$(runc --root "$rdir/state" state hy1 | sed -n 's/^ *"pid": *\([0-9]*\).*/\1/p')
  [ "${pid:-0}" -gt 0 ] 2>/dev/null || bad "runc state hy1: no pid: $(runc --root "$rdir/state" state hy1 2>&1)"
  out=$(systemctl show runc-hy1.scope -p MemoryLimit,Delegate,ActiveState,Slice 2>&1)
  grep -qx MemoryLimit=67108864 <<<"$out" || bad "runc-hy1.scope's MemoryLimit is not 67108864: $out"
  grep -qx Delegate=yes <<<"$out" || bad "runc-hy1.scope is not Delegate=yes: $out"
  grep -qx ActiveState=active <<<"$out" || bad "runc-hy1.scope is not active while the container runs: $out"
  [ "$(cat "$cg/memory.limit_in_bytes" 2>&1)" = 67108864 ] || bad "$cg/memory.limit_in_bytes: $(cat "$cg/memory.limit_in_bytes" 2>&1), want 67108864"
  grep -qx "$pid" "$cg/cgroup.procs" || bad "the container's pid $pid is not in $cg/cgroup.procs: $(cat "/proc/$pid/cgroup")"
  grep -qx "0::/system.slice/runc-hy1.scope" "/proc/$pid/cgroup" || bad "the container's pid $pid is not in /system.slice/runc-hy1.scope of the unified hierarchy: $(cat "/proc/$pid/cgroup")"
  step "runc --systemd-cgroup run -d hy1 ($(runc --version | head -n 1), cgroupsPath system.slice:runc:hy1, memory limit 64M): pid $pid; systemctl show runc-hy1.scope: $(tr '\n' ' ' <<<"$out")$cg/memory.limit_in_bytes: $(cat "$cg/memory.limit_in_bytes"); /proc/$pid/cgroup: $(grep -E '^[0-9]+:memory:|^0::' "/proc/$pid/cgroup" | tr '\n' ' ')"
  runc --root "$rdir/state" delete --force hy1 || bad "runc delete --force hy1"
  rid=
  end=$((SECONDS + 20))
  while { [ -d "$cg" ] || [ -d "$ucg" ] || [ "$(systemctl is-active runc-hy1.scope)" = active ]; } && [ $SECONDS -lt $end ]; do sleep 0.2; done
  [ ! -d "$cg" ] || bad "$cg is left after runc delete"
  [ ! -d "$ucg" ] || bad "$ucg is left after runc delete"
  state=$(systemctl is-active runc-hy1.scope)
  [ "$state" != active ] || bad "runc-hy1.scope is still active after runc delete"
  step "runc delete --force hy1: runc-hy1.scope $state, $cg and $ucg gone"
  rm -rf "$rdir"
  echo "TSRUNC-VM-PROBE passed"
}

# bounded SECONDS LABEL COMMAND...: runs COMMAND (a test file, about a minute
# under TCG) in its own session; should it still run after SECONDS, prints
# what every process is waiting on (TSRUNC-VM-HANG lines) and kills the
# session (SIGTERM, then after TSRUNC_BOUNDED_GRACE seconds, 30, SIGKILL):
# exit 124. A hang then costs that file, not the guest's other
# files, and the console says where it hung.
bounded() {
  local limit=$1 label=$2 pid
  shift 2
  setsid "$@" &
  pid=$!
  if ! ends_within "$pid" "$limit"; then
    hang_report "$label" "$limit" "$pid"
    # SIGTERM first: the harness cleans up what the file made before it exits
    kill -TERM -- "-$pid" 2>/dev/null
    ends_within "$pid" "${TSRUNC_BOUNDED_GRACE:-30}"
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid"
    return 124
  fi
  wait "$pid"
}

# ends_within PID SECONDS: waits (polling each second) until process PID has
# ended; fails if it still runs after SECONDS.
ends_within() {
  local waited=0
  while kill -0 "$1" 2>/dev/null; do
    [ $waited -lt "$2" ] || return 1
    sleep 1
    waited=$((waited + 1))
  done
}

# hang_report LABEL SECONDS SESSION: the processes with their kernel wait
# channel, the kernel stacks of the session's processes and of any in D
# state, systemd's queued jobs, the kernel's last words.
hang_report() {
  local p st
  echo "TSRUNC-VM-HANG $1 still runs after $2 s; the processes (pid ppid state wchan age args):"
  ps -eo pid=,ppid=,stat=,wchan:28=,etimes=,args= --forest | grep -v ' \[[^]]*\]$' | cut -c1-220 | sed 's/^/TSRUNC-VM-HANG   /'
  for p in $(ps -eo pid=,sid=,stat= | awk -v s="$3" '$2 == s || $3 ~ /^D/ {print $1}'); do
    st=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-160)
    echo "TSRUNC-VM-HANG stack of $p ($st): $(tr '\n' ' ' <"/proc/$p/stack" 2>/dev/null)"
  done
  systemctl list-jobs --no-pager --no-legend 2>&1 | sed 's/^/TSRUNC-VM-HANG job /'
  dmesg 2>/dev/null | tail -n 15 | sed 's/^/TSRUNC-VM-HANG kernel /'
}

# --systemd-checks: runs in the systemd guest: the probe, then the systemd
# driver's e2e file (test/e2e/systemd.test.js: tsrunc --systemd-cgroup beside
# runc) and the callers on systemd (test/e2e-callers/systemd.test.js: podman
# with cgroup_manager systemd, containerd with SystemdCgroup = true and a CRI
# pod), each framed by "TSRUNC-VM-SYSTEMD-E2E start|exit <status> <file>".
systemd_checks() {
  local probe e2e callers
  (systemd_probe)
  probe=$?
  cd "$PROJECT" || exit 125
  echo "TSRUNC-VM-SYSTEMD-E2E start test/e2e/systemd.test.js"
  bounded 300 test/e2e/systemd.test.js node node_modules/uvu/bin.js test/e2e systemd
  e2e=$?
  echo "TSRUNC-VM-SYSTEMD-E2E exit $e2e test/e2e/systemd.test.js"
  echo "TSRUNC-VM-SYSTEMD-E2E start test/e2e-callers/systemd.test.js"
  bounded 300 test/e2e-callers/systemd.test.js node node_modules/uvu/bin.js test/e2e-callers systemd
  callers=$?
  echo "TSRUNC-VM-SYSTEMD-E2E exit $callers test/e2e-callers/systemd.test.js"
  echo "TSRUNC-VM-RESULT probe=$probe systemd-e2e=$e2e callers-systemd=$callers"
  [ $probe = 0 ] && [ $e2e = 0 ] && [ $callers = 0 ]
}

# --cgroup-checks N [SKIP [ALONE]]: runs in the guest: the smoke run, then the
# cgroups e2e file split into N shards run side by side (every Nth test each,
# one vCPU per shard), then the tests whose name matches the regular
# expression ALONE by themselves (timing-sensitive ones: under TCG a parallel
# shard can slow them past their waits); tests matching SKIP are skipped.
# Each pass's output follows "TSRUNC-VM-PASS <i>/<passes> exit <status>", each
# test's result "TSRUNC-VM-TEST pass|FAIL|skip <seconds>s <name>".
cgroup_checks() {
  local n=${1:-1} skip=${2:-} alone=${3:-} k smoke=0 e2e=0 conf=0 st dir passes pids=()
  (smoke)
  smoke=$?
  cd "$PROJECT" || exit 125
  dir=$(mktemp -d /tmp/tsrunc-vm-e2e.XXXXXX)
  # a preload for uvu suites: keeps test K, K+N, K+2N... (TSRUNC_VM_SHARD=K/N),
  # of those only the ones TSRUNC_VM_ONLY matches (if set), not the ones
  # TSRUNC_VM_DEFER matches (run in another pass) nor TSRUNC_VM_SKIP's
  # (reported as skipped), and times each test it runs
  cat > "$dir/shard.js" <<'JS'
'use strict';
const uvu = require(require.resolve('uvu', { paths: [process.cwd()] }));
const env = process.env;
const [k, n] = env.TSRUNC_VM_SHARD.split('/').map(Number);
const only = env.TSRUNC_VM_ONLY ? new RegExp(env.TSRUNC_VM_ONLY) : null;
const skip = env.TSRUNC_VM_SKIP ? new RegExp(env.TSRUNC_VM_SKIP) : null;
const defer = env.TSRUNC_VM_DEFER ? new RegExp(env.TSRUNC_VM_DEFER) : null;
const suite = uvu.suite;
uvu.suite = function (...args) {
  const s = suite.apply(this, args);
  let i = 0;
  return new Proxy(s, {
    apply(t, self, [name, fn]) {
      if (i++ % n !== k || (only && !only.test(name)) || (defer && defer.test(name))) return t.skip(name, fn);
      if (skip && skip.test(name)) {
        console.log(`\nTSRUNC-VM-TEST skip 0s ${name}`);
        return t.skip(name, fn);
      }
      return t(name, async (...a) => {
        const start = Date.now();
        let ok = false;
        try {
          await fn(...a);
          ok = true;
        } finally {
          console.log(`\nTSRUNC-VM-TEST ${ok ? 'pass' : 'FAIL'} ${((Date.now() - start) / 1000).toFixed(1)}s ${name}`);
        }
      });
    },
  });
};
JS
  passes=$n
  [ -n "$alone" ] && passes=$((n + 1))
  echo "TSRUNC-VM: test/e2e/cgroups.test.js in $n parallel shard(s)${alone:+, then /$alone/ alone}${skip:+, skipping /$skip/}"
  run_pass() { # pass-number shard only defer skip
    TSRUNC_VM_SHARD=$2 TSRUNC_VM_ONLY=$3 TSRUNC_VM_DEFER=$4 TSRUNC_VM_SKIP=$5 \
      node -r "$dir/shard.js" node_modules/uvu/bin.js test/e2e cgroups > "$dir/pass-$1.out" 2>&1
  }
  report() { # pass-number status
    [ "$2" = 0 ] || e2e=$2
    echo "TSRUNC-VM-PASS $1/$passes exit $2"
    cat "$dir/pass-$1.out"
  }
  for k in $(seq 0 $((n - 1))); do
    run_pass "$k" "$k/$n" '' "$alone" "$skip" &
    pids+=($!)
  done
  for k in $(seq 0 $((n - 1))); do
    wait "${pids[$k]}"
    report "$k" $?
  done
  if [ -n "$alone" ]; then
    run_pass "$n" 0/1 "$alone" '' ''
    report "$n" $?
  fi
  rm -rf "$dir"
  # the conformance suite's linux.resources cases: every value as v2 reports it
  echo "TSRUNC-VM-CONFORMANCE start"
  node conformance/run.js 'resources-*'
  conf=$?
  echo "TSRUNC-VM-CONFORMANCE exit $conf"
  echo "TSRUNC-VM-RESULT smoke=$smoke cgroups-e2e=$e2e conformance=$conf"
  [ $smoke = 0 ] && [ $e2e = 0 ] && [ $conf = 0 ]
}

# --criu-checks: runs in the guest (cgroup v2, Debian's kernel, which CRIU
# works with): `criu check`, then test/e2e/checkpoint.test.js (checkpoint and
# restore end to end: same id, new id, --leave-running, --pre-dump and
# --parent-path, pipes, a terminal, hooks, the foreground) and
# test/e2e-callers/podman-checkpoint.test.js (podman's container
# checkpoint/restore through tsrunc and runc), each framed by
# "TSRUNC-VM-CRIU-E2E start|exit <status> <file>".
criu_checks() {
  local check e2e podman log=/tmp/tsrunc-vm-criu-check.log
  cd "$PROJECT" || exit 125
  if ! command -v criu >/dev/null; then
    echo "TSRUNC-VM-CRIU skip: no criu on this machine (test/vm/build.sh could not install it)"
    echo "TSRUNC-VM-RESULT criu-check=skip checkpoint-e2e=skip podman-checkpoint=skip"
    return 0
  fi
  # its errors go to its log (stderr only when that is a terminal)
  criu check --log-file "$log" >/dev/null 2>&1
  check=$?
  if [ $check = 0 ]; then
    echo "TSRUNC-VM-CRIU ok: $(criu --version | head -n 1): criu check passes on $(uname -r)"
  else
    echo "TSRUNC-VM-CRIU FAIL: criu check (exit $check) on $(uname -r): $(grep -m3 Error "$log" | tr '\n' ' ')"
  fi
  echo "TSRUNC-VM-CRIU-E2E start test/e2e/checkpoint.test.js"
  bounded 600 test/e2e/checkpoint.test.js node node_modules/uvu/bin.js test/e2e 'checkpoint\.test\.js$'
  e2e=$?
  echo "TSRUNC-VM-CRIU-E2E exit $e2e test/e2e/checkpoint.test.js"
  echo "TSRUNC-VM-CRIU-E2E start test/e2e-callers/podman-checkpoint.test.js"
  bounded 600 test/e2e-callers/podman-checkpoint.test.js node node_modules/uvu/bin.js test/e2e-callers 'podman-checkpoint\.test\.js$'
  podman=$?
  echo "TSRUNC-VM-CRIU-E2E exit $podman test/e2e-callers/podman-checkpoint.test.js"
  echo "TSRUNC-VM-RESULT criu-check=$check checkpoint-e2e=$e2e podman-checkpoint=$podman"
  [ $check = 0 ] && [ $e2e = 0 ] && [ $podman = 0 ]
}

case "${1:-}" in
  --criu-checks)
    criu_checks
    exit
    ;;
  --smoke)
    smoke
    exit 0
    ;;
  --cgroup-checks)
    cgroup_checks "${2:-1}" "${3:-}" "${4:-}"
    exit
    ;;
  --systemd-probe)
    systemd_probe
    exit 0
    ;;
  --systemd-checks)
    systemd_checks
    exit
    ;;
  --bounded)
    # bounded SECONDS LABEL COMMAND... by itself (test/unit/vm-bounded.test.js)
    shift
    bounded "$@"
    exit
    ;;
esac

# ---------------------------------------------------------------------------
# the host side

MEM=${TSRUNC_VM_MEM:-2048}
CPUS=${TSRUNC_VM_CPUS:-2}
VM_DIR=${TSRUNC_VM_DIR:-$PROJECT/.tmp/vm}
SHARDS=${TSRUNC_VM_SHARDS:-$CPUS}
INIT=${TSRUNC_VM_INIT:-busybox}
CGROUP=${TSRUNC_VM_CGROUP:-v2}
case $INIT in
  busybox) INIT_APPEND= ;;
  systemd)
    # the units, masks and guest.sh: test/vm/systemd/ (stage 1 installs them)
    INIT_APPEND="tsrunc_vm_init=systemd systemd.unit=tsrunc-vm.target"
    ;;
  *) echo "vm/run: TSRUNC_VM_INIT must be busybox or systemd, not $INIT" >&2; exit 125 ;;
esac
# the cgroup layout: v2 alone (cgroup_no_v1=all: no v1 controller can even be
# mounted), or systemd's hybrid layout (each v1 controller its own hierarchy
# under /sys/fs/cgroup, the unified one at /sys/fs/cgroup/unified without
# controllers; systemd tracks units there, legacy_systemd_cgroup_controller=0)
case $CGROUP in
  v2)
    CGROUP_APPEND=cgroup_no_v1=all
    [ "$INIT" = systemd ] && INIT_APPEND+=" systemd.unified_cgroup_hierarchy=1"
    ;;
  hybrid)
    [ "$INIT" = systemd ] || { echo "vm/run: TSRUNC_VM_CGROUP=hybrid needs TSRUNC_VM_INIT=systemd (systemd makes the hybrid layout)" >&2; exit 125; }
    CGROUP_APPEND=
    INIT_APPEND+=" tsrunc_vm_cgroup=hybrid systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0"
    ;;
  *) echo "vm/run: TSRUNC_VM_CGROUP must be v2 or hybrid, not $CGROUP" >&2; exit 125 ;;
esac
[ "$INIT" = systemd ] && INIT_APPEND+=" systemd.show_status=1"

# KVM runs Debian's stock kernel only with hardware virtualization (vmx/svm).
# Some hosts' /dev/kvm is PVM (kvm_pvm: a paravirtual KVM for machines that
# are VMs themselves, without nested vmx/svm), which boots only kernels built
# as PVM guests: a stock kernel hangs in early boot there. Then (auto) the
# guest runs under TCG, qemu's emulator: slower, same guest.
ACCEL=${TSRUNC_VM_ACCEL:-auto}
if [ "$ACCEL" = auto ]; then
  if [ -c /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -d /sys/module/kvm_pvm ]; then ACCEL=kvm; else ACCEL=tcg; fi
fi
case $ACCEL in
  kvm)
    [ -c /dev/kvm ] || { echo "vm/run: /dev/kvm is missing: cannot boot the test guest with KVM" >&2; exit 125; }
    ACCEL_ARGS=(-enable-kvm -cpu host)
    TIMEOUT=${TSRUNC_VM_TIMEOUT:-480}
    SKIP=${TSRUNC_VM_SKIP-}
    ALONE=${TSRUNC_VM_ALONE-}
    ;;
  tcg)
    # without AVX: glibc's and V8's SSE paths emulate faster (~20% here)
    ACCEL_ARGS=(-accel tcg,thread=multi -cpu "${TSRUNC_VM_TCG_CPU:-max,-avx,-avx2}")
    TIMEOUT=${TSRUNC_VM_TIMEOUT:-900}
    # ~20x slower than KVM: leave out the tests whose checks do not depend on
    # the cgroup version (config validation, a missing container), to stay
    # well within CI's time
    SKIP=${TSRUNC_VM_SKIP-^(bad values at create|update: bad values|missing container)}
    # the OOM test waits 20 s for a 32 MiB pipe through busybox tr (8 s alone
    # under TCG): not beside a shard
    ALONE=${TSRUNC_VM_ALONE-^a memory limit OOM-kills}
    ;;
  *) echo "vm/run: TSRUNC_VM_ACCEL must be auto, kvm or tcg, not $ACCEL" >&2; exit 125 ;;
esac
# build.sh reads TSRUNC_VM_INIT (systemd: installs systemd and dbus if missing)
TSRUNC_VM_INIT=$INIT bash "$HERE/build.sh" "$VM_DIR" || { echo "vm/run: test/vm/build.sh failed" >&2; exit 125; }
VM_DIR=$(cd "$VM_DIR" && pwd -P)
if [ "${TSRUNC_VM_NO_NPM_BUILD:-}" != 1 ]; then
  (cd "$PROJECT" && npm run build --silent) || { echo "vm/run: npm run build failed" >&2; exit 125; }
fi

# both go on the kernel command line
case "$PROJECT$VM_DIR" in *[[:space:]]*)
  echo "vm/run: the project dir and the cache dir must not contain white space: $PROJECT, $VM_DIR" >&2
  exit 125 ;;
esac

RUN_DIR=$(mktemp -d /tmp/tsrunc-vm-run.XXXXXX)
QEMU_PID_FILE=$RUN_DIR/qemu.pid
cleanup() {
  local pid
  pid=$(cat "$QEMU_PID_FILE" 2>/dev/null)
  # only our qemu, should it still run (the pid file may outlive it)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = qemu-system-x86 ]; then
    kill -TERM "$pid" 2>/dev/null
    sleep 1
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -rf "$RUN_DIR"
}
trap cleanup EXIT
trap 'echo "vm/run: interrupted" >&2; exit 130' INT TERM

# the command for the guest's stage 2: cwd, environment, then the command
{
  echo "cd $(printf %q "$PROJECT") || exit 125"
  for name in $(compgen -e); do
    case $name in
      TSRUNC_VM_*) ;;
      TSRUNC_* | CI) echo "export $name=$(printf %q "${!name}")" ;;
    esac
  done
  if [ $# -gt 0 ]; then
    printf '%q ' "$@"
    echo
  elif [ "$INIT" = systemd ]; then
    echo "bash test/vm/run.sh --systemd-checks"
  else
    echo "bash test/vm/run.sh --cgroup-checks $(printf '%q %q %q' "$SHARDS" "$SKIP" "$ALONE")"
  fi
} > "$RUN_DIR/cmd.sh"

# a small blank disk: the guest's only block device (/dev/vda), for the tests
# that throttle I/O (io.max needs a real block device)
truncate -s 64M "$RUN_DIR/disk.img"

LOG=$RUN_DIR/console.log
echo "vm/run: booting $(cat "$VM_DIR/kernel/package") (init $INIT, ${CGROUP_APPEND:-cgroup v1 hybrid}, $ACCEL, ${MEM} MiB, ${CPUS} vCPUs, timeout ${TIMEOUT}s)" >&2
start=$(date +%s)
# stdin from /dev/null: qemu leaves the terminal alone. In the background,
# so that INT/TERM to this script run the trap (which kills qemu) at once.
{
  timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
    "${ACCEL_ARGS[@]}" -smp "$CPUS" -m "$MEM" \
    -nographic -no-reboot -nic none \
    -kernel "$VM_DIR/vmlinuz" -initrd "$VM_DIR/initramfs.cpio.gz" \
    -append "console=ttyS0 ${CGROUP_APPEND:+$CGROUP_APPEND }panic=-1 mitigations=off quiet loglevel=3 random.trust_cpu=on tsrunc_vm_dir=$VM_DIR tsrunc_vm_project=$PROJECT $INIT_APPEND ${TSRUNC_VM_APPEND:-}" \
    -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
    -virtfs "local,path=$RUN_DIR,mount_tag=vmio,security_model=none,multidevs=remap" \
    -drive "file=$RUN_DIR/disk.img,format=raw,if=virtio,cache=unsafe" \
    -fw_cfg name=etc/sercon-port,string=0 `# SeaBIOS quiet on the console` \
    -pidfile "$QEMU_PID_FILE" \
    </dev/null 2>&1 | grep -av --line-buffered 'fw_cfg item names should be prefixed'
  echo "${PIPESTATUS[0]}" 2>/dev/null > "$RUN_DIR/qemu.status"
} | tee "$LOG" &
wait $!
qemu_status=$(cat "$RUN_DIR/qemu.status" 2>/dev/null)
elapsed=$(($(date +%s) - start))

if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
  echo "vm/run: the guest did not finish within ${TIMEOUT}s: killed" >&2
  exit 124
fi
code=
if [ -s "$RUN_DIR/exit-code" ]; then
  code=$(tr -dc 0-9 < "$RUN_DIR/exit-code")
else
  code=$(sed -n 's/.*TSRUNC-VM-EXIT \([0-9][0-9]*\).*/\1/p' "$LOG" | tail -n 1)
fi
if [ -z "$code" ]; then
  echo "vm/run: the guest ended (qemu exit $qemu_status) without reporting an exit status" >&2
  exit 125
fi
echo "vm/run: guest command exited $code after ${elapsed}s" >&2
exit "$code"
