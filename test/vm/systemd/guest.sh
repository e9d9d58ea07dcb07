# tsrunc test guest, systemd flavour (TSRUNC_VM_INIT=systemd): run by busybox
# sh from tsrunc-vm-cmd.service once tsrunc-vm.target is reached. Checks that
# PID 1 is systemd, the cgroup layout (cgroup v2 alone, or with
# tsrunc_vm_cgroup=hybrid systemd's hybrid one) and that the system bus answers,
# runs /run/tsrunc-vm/io/cmd.sh (written by run.sh) as the service's main
# process, writes its exit status to vmio and on the console
# ("TSRUNC-VM-EXIT <code>") and powers off.
#   guest.sh --failed UNIT   (tsrunc-vm-fail.service; emergency and rescue
#                            instead of a shell): the boot or the command's
#                            service failed: status 125, power off
bb=/run/tsrunc-vm/busybox
io=/run/tsrunc-vm/io
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb
cd /

finish() {
  # the first status written stands (a failure seen while powering off must
  # not overwrite the command's)
  [ -s $io/exit-code ] || echo "$1" > $io/exit-code
  $bb sync
  echo
  echo "TSRUNC-VM-EXIT $(cat $io/exit-code)"
  # at once: no unit is stopped; systemd-shutdown kills what is left,
  # unmounts and powers off
  systemctl poweroff -f || $bb poweroff -f
  $bb sleep 30
  $bb poweroff -f
}

if [ "${1:-}" = --failed ]; then
  if [ -n "${MONITOR_UNIT:-}" ]; then
    echo "TSRUNC-VM: systemd: $MONITOR_UNIT failed"
  else
    echo "TSRUNC-VM: systemd: the boot failed ($2 mode)"
  fi
  systemctl --failed --no-pager --plain 2>&1
  journalctl -b -p warning --no-pager -q 2>&1 | $bb tail -n 40
  finish 125
fi

fail() {
  echo "TSRUNC-VM-SYSTEMD FAIL: $*"
  finish 125
}

[ "$($bb cat /proc/1/comm)" = systemd ] || fail "PID 1 is $($bb cat /proc/1/comm), not systemd"

case " $($bb cat /proc/cmdline) " in
  *" tsrunc_vm_cgroup=hybrid "*) layout=hybrid ;;
  *) layout=v2 ;;
esac
if [ $layout = v2 ]; then
# ---- only cgroup v2 (as stage2.sh) ----
$bb grep -qw cgroup_no_v1=all /proc/cmdline || fail "cgroup_no_v1=all is not on the kernel command line"
[ -f /sys/fs/cgroup/cgroup.controllers ] || fail "/sys/fs/cgroup is not cgroup2"
$bb grep -q ' - cgroup ' /proc/self/mountinfo && fail "a cgroup v1 hierarchy is mounted"
$bb mkdir -p /run/tsrunc-vm/v1probe
for c in memory pids cpu cpuset devices freezer blkio; do
  if $bb mount -t cgroup -o $c cgroup /run/tsrunc-vm/v1probe 2>/dev/null; then
    $bb umount /run/tsrunc-vm/v1probe
    fail "the v1 $c controller can still be mounted"
  fi
done
controllers=$($bb cat /sys/fs/cgroup/cgroup.controllers)
for c in memory pids cpu; do
  case " $controllers " in *" $c "*) ;; *) fail "the $c controller is missing from cgroup2 (it has: $controllers)" ;; esac
done
echo "TSRUNC-VM-CGROUP ok: cgroup2 only (cgroup_no_v1=all, no v1 controller mountable); controllers: $controllers; kernel $($bb uname -r)"
else
# ---- systemd's hybrid layout (TSRUNC_VM_CGROUP=hybrid) ----
# a tmpfs at /sys/fs/cgroup, a v1 hierarchy per controller (or pair) below
# it, and the unified hierarchy at /sys/fs/cgroup/unified, where systemd
# tracks its units (it holds no controller: they are all bound to v1)
$bb grep -qw cgroup_no_v1=all /proc/cmdline && fail "cgroup_no_v1=all is on the kernel command line"
# mount point, type and super options of what is mounted under /sys/fs/cgroup
mounts=$($bb awk '$5 ~ "^/sys/fs/cgroup(/|$)" { for (i = 7; $i != "-"; i++); print $5, $(i + 1), $(i + 3) }' /proc/self/mountinfo)
type_of() { echo "$mounts" | $bb awk -v m="$1" '$1 == m { t = $2 } END { print t }'; }
[ "$(type_of /sys/fs/cgroup)" = tmpfs ] || fail "/sys/fs/cgroup is not systemd's tmpfs (it is: $(type_of /sys/fs/cgroup)); mounts: $mounts"
[ "$(type_of /sys/fs/cgroup/unified)" = cgroup2 ] || fail "no cgroup2 at /sys/fs/cgroup/unified; mounts: $mounts"
unified=$($bb cat /sys/fs/cgroup/unified/cgroup.controllers)
for c in memory pids cpu cpuset devices freezer blkio; do
  [ "$(type_of "$($bb readlink -f /sys/fs/cgroup/$c)")" = cgroup ] || fail "no v1 $c hierarchy at /sys/fs/cgroup/$c; mounts: $mounts"
done
for f in memory/memory.limit_in_bytes cpu/cpu.shares cpuset/cpuset.cpus devices/devices.list blkio/blkio.throttle.read_bps_device pids/cgroup.procs freezer/cgroup.procs; do
  [ -e /sys/fs/cgroup/$f ] || fail "no /sys/fs/cgroup/$f"
done
# block IO weights on v1: CFQ's blkio.weight is gone from kernels >= 5.0,
# only BFQ offers them (blkio.bfq.weight, what runc and tsrunc write then),
# and BFQ is a module: loaded, and the scheduler of the scratch disk, as a v1
# host that honours blkio weights would have it
modprobe bfq 2>/dev/null
[ -w /sys/block/vda/queue/scheduler ] && echo bfq > /sys/block/vda/queue/scheduler 2>/dev/null
# (its files are in every blkio cgroup but the root)
[ -d /sys/module/bfq ] && blkio="blkio.bfq.weight (bfq$($bb grep -q '\[bfq\]' /sys/block/vda/queue/scheduler 2>/dev/null && echo ', on vda'))" || blkio="none (no bfq module)"
v1=$(echo "$mounts" | $bb awk '$2 == "cgroup" { sub("^/sys/fs/cgroup/", "", $1); print $1 }' | $bb sort | $bb tr '\n' ' ')
echo "TSRUNC-VM-CGROUP ok: hybrid (no cgroup_no_v1); v1 hierarchies: ${v1% }; unified: /sys/fs/cgroup/unified (cgroup2, controllers: ${unified:-none}); blkio weights: $blkio; kernel $($bb uname -r)"
fi

# ---- systemd up, the system bus answering ----
# this service's start job was the boot's last: the boot is over (or about to be)
state=$($bb timeout 120 systemctl is-system-running --wait 2>&1)
case $state in
  running) ;;
  degraded) echo "TSRUNC-VM-SYSTEMD degraded: failed units: $(systemctl --failed --plain --no-legend | $bb awk '{ print $1 }' | $bb tr '\n' ' ')" ;;
  *) fail "system state: $state" ;;
esac
version=$(busctl --system get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager Version 2>&1) ||
  fail "systemd is not on the system bus: busctl --system get-property ... Version: $version"
[ -S /run/dbus/system_bus_socket ] || fail "no /run/dbus/system_bus_socket"
bus=$($bb cat /proc/"$(systemctl show -p MainPID --value dbus.service)"/comm 2>/dev/null)
version=$(echo "${version#s }" | $bb tr -d '"')
echo "TSRUNC-VM-SYSTEMD ok: PID 1 systemd $version, state $state, system bus $bus on /run/dbus/system_bus_socket; $(systemd-analyze time 2>&1 | $bb head -n 1)"

[ -f $io/cmd.sh ] || { echo "TSRUNC-VM: no $io/cmd.sh"; finish 125; }
$bb sh $io/cmd.sh </dev/null
finish $?
