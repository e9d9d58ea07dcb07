#!/usr/bin/env bash
# Builds what the cgroup v2 test guest needs (test/vm/run.sh boots it) into a
# cache dir, idempotently:
#
#   bash test/vm/build.sh [DIR]        DIR: $TSRUNC_VM_DIR, else <project>/.tmp/vm
#
#   DIR/kernel/       Debian's kernel package (linux-image-amd64's current
#                     linux-image-*) unpacked with dpkg-deb -x, with depmod run
#                     on it: vmlinuz, and every module for the guest. The host
#                     kernel is untouched (nothing is installed).
#   DIR/initramfs.cpio.gz
#                     busybox-static, the modules the guest needs to reach its
#                     root (virtio-pci, 9p over virtio, overlay) and /init.
#
# The guest (see /init below): its root filesystem is the host's / shared read
# only over virtio-9p, under an overlay whose upper layer is a tmpfs, so the
# guest runs the host's node, npm packages, busybox-static, ps... at the same
# paths and everything it writes (/tmp, /run, the project's .tmp) goes to its
# RAM. /sys/fs/cgroup is cgroup2 alone: the kernel is booted with
# cgroup_no_v1=all and /init checks that no v1 controller can be mounted.
# It runs the command that run.sh left in a second, writable 9p share (vmio),
# writes the exit status there and on the console ("TSRUNC-VM-EXIT <code>"),
# and powers off.
#
# The systemd flavour (tsrunc_vm_init=systemd on the kernel command line, set
# by TSRUNC_VM_INIT=systemd bash test/vm/run.sh): the same root, but stage 1
# switch_roots to the host's /lib/systemd/systemd, with the units of
# test/vm/systemd/ (copied into the initramfs) in the overlay's /etc: the
# guest boots tsrunc-vm.target (basic.target and the system bus), masks what
# cannot work or only costs time there (test/vm/systemd/masked), and
# tsrunc-vm-cmd.service runs the command (test/vm/systemd/guest.sh). With
# TSRUNC_VM_INIT=systemd this script installs systemd and dbus when missing.
# Its cgroup v1 hybrid variant (TSRUNC_VM_CGROUP=hybrid: run.sh boots without
# cgroup_no_v1 and with tsrunc_vm_cgroup=hybrid
# systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0)
# uses the same initramfs: systemd mounts the v1 hierarchies and
# /sys/fs/cgroup/unified, guest.sh checks that layout instead of cgroup2 alone.
#
# Needs root (apt-get install of what is missing; mknod).
# Exits 3 when something the guest needs cannot be had here (a package that
# apt-get cannot install, the kernel package, not root): vm.test.js skips then.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT=$(cd "$HERE/../.." && pwd -P)
VM_DIR=${1:-${TSRUNC_VM_DIR:-$PROJECT/.tmp/vm}}
mkdir -p "$VM_DIR"
VM_DIR=$(cd "$VM_DIR" && pwd -P)

log() { echo "vm/build: $*" >&2; }
die() { echo "vm/build: error: $*" >&2; exit 1; }
# what the guest needs cannot be had on this machine
unavailable() { echo "vm/build: unavailable: $*" >&2; exit 3; }

[ "$(id -u)" = 0 ] || unavailable "must run as root (apt-get install, mknod)"
# one build at a time per cache dir
exec 9>"$VM_DIR/.lock"
flock 9

# ---- packages --------------------------------------------------------------

# command -> Debian package that provides it
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || [ -x /sbin/depmod ] || need+=(kmod)
command -v modprobe >/dev/null || [ -x /sbin/modprobe ] || need+=(kmod)
command -v dpkg-deb >/dev/null || need+=(dpkg)
# /bin/busybox must be the static one: it runs in the initramfs and in the
# guest (test/lib/rootfs.js builds the container rootfs from it)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
installed busybox-static || need+=(busybox-static)
# the systemd guest runs the host's systemd as PID 1 and its dbus-daemon
if [ "${TSRUNC_VM_INIT:-}" = systemd ]; then
  installed systemd || need+=(systemd)
  installed dbus || need+=(dbus)
fi
# CRIU for checkpoint/restore in the guest (its kernel runs it; not every
# host's does): installed when it can be, else the guest's checkpoint tests
# skip themselves, naming why
if ! command -v criu >/dev/null && [ ! -x /usr/sbin/criu ]; then
  export DEBIAN_FRONTEND=noninteractive
  log "installing criu"
  apt-get install -y -q --no-install-recommends criu >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends criu >/dev/null 2>&1; } ||
    log "criu cannot be installed here: the guest's checkpoint/restore tests will skip"
fi
if [ ${#need[@]} -gt 0 ]; then
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; then
    apt-get update -q >/dev/null || unavailable "apt-get update failed (installing ${need[*]})"
    apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null || unavailable "apt-get install ${need[*]} failed"
  fi
fi
PATH=$PATH:/sbin:/usr/sbin
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }
file_is_static /bin/busybox || unavailable "/bin/busybox is not statically linked (install busybox-static)"
if [ "${TSRUNC_VM_INIT:-}" = systemd ]; then
  [ -x /lib/systemd/systemd ] || unavailable "no /lib/systemd/systemd on this machine (the systemd guest runs the host's)"
  [ -x /usr/bin/dbus-daemon ] || unavailable "no /usr/bin/dbus-daemon on this machine (package dbus)"
fi

# ---- kernel ----------------------------------------------------------------

KDIR=$VM_DIR/kernel
if [ ! -e "$KDIR/.complete" ]; then
  pkg=${TSRUNC_VM_KERNEL_PKG:-}
  if [ -z "$pkg" ]; then
    resolve() { apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'; }
    pkg=$(resolve)
    if [ -z "$pkg" ]; then
      apt-get update -q >/dev/null || true
      pkg=$(resolve)
    fi
    [ -n "$pkg" ] || unavailable "cannot resolve linux-image-amd64 to a kernel package (apt-cache depends linux-image-amd64)"
  fi
  log "downloading and unpacking $pkg (not installed on the host)"
  rm -rf "$VM_DIR/dl" "$KDIR.tmp"
  mkdir -p "$VM_DIR/dl"
  # apt's _apt sandbox user may not write here: download as root
  (cd "$VM_DIR/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) || unavailable "apt-get download $pkg failed"
  deb=$(ls "$VM_DIR"/dl/*.deb)
  dpkg-deb -x "$deb" "$KDIR.tmp"
  kver=$(ls "$KDIR.tmp/lib/modules")
  [ -f "$KDIR.tmp/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in $deb"
  depmod -b "$KDIR.tmp" "$kver"
  echo "$kver" > "$KDIR.tmp/version"
  echo "$pkg" > "$KDIR.tmp/package"
  touch "$KDIR.tmp/.complete"
  rm -rf "$KDIR" "$VM_DIR/dl"
  mv "$KDIR.tmp" "$KDIR"
fi
KVER=$(cat "$KDIR/version")
ln -sfn "kernel/boot/vmlinuz-$KVER" "$VM_DIR/vmlinuz"

# ---- initramfs ---------------------------------------------------------------

# what the guest needs to reach its root, in load order (dependencies first)
# and virtio_blk for the scratch disk (/dev/vda: tests that throttle I/O need a real block device)
MODULES=(virtio_pci 9pnet_virtio 9p overlay virtio_blk)

stamp=$( { cat "${BASH_SOURCE[0]}" "$HERE"/systemd/*; echo "$KVER"; sha256sum /bin/busybox; } | sha256sum | cut -d' ' -f1)
if [ -f "$VM_DIR/initramfs.cpio.gz" ] && [ "$(cat "$VM_DIR/initramfs.stamp" 2>/dev/null)" = "$stamp" ]; then
  log "up to date: $VM_DIR (kernel $KVER)"
  exit 0
fi

log "building the initramfs (kernel $KVER)"
STAGE=$VM_DIR/initramfs.tmp
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,dev,proc,sys,tmp,host,rw,newroot,modules}
cp /bin/busybox "$STAGE/bin/busybox"
for applet in $("$STAGE/bin/busybox" --list); do
  [ -e "$STAGE/bin/$applet" ] || ln -s busybox "$STAGE/bin/$applet"
done
mknod -m 600 "$STAGE/dev/console" c 5 1
mknod -m 666 "$STAGE/dev/null" c 1 3
# the systemd flavour's units, mask list and guest.sh (stage 1 copies them)
cp -r "$HERE/systemd" "$STAGE/systemd"

: > "$STAGE/modules/order"
for m in "${MODULES[@]}"; do
  while read -r cmd ko _; do
    [ "$cmd" = insmod ] || continue # "builtin ..." needs nothing
    name=$(basename "$ko")
    grep -qxF "$name" "$STAGE/modules/order" && continue
    cp "$ko" "$STAGE/modules/$name"
    echo "$name" >> "$STAGE/modules/order"
  done < <(modprobe -d "$KDIR" -S "$KVER" --show-depends "$m")
done

# ---- stage 1: /init in the initramfs -----------------------------------------
cat > "$STAGE/init" <<'EOF'
#!/bin/busybox sh
# tsrunc test guest, stage 1: reach the root (host / over 9p + tmpfs overlay),
# mount the API filesystems and cgroup2 in it, switch_root to stage 2; with
# tsrunc_vm_init=systemd, set up the overlay's /etc for systemd and
# switch_root to it (it mounts cgroup2 itself).
export PATH=/bin
mount -t devtmpfs -o mode=755 devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys

fail() {
  echo "TSRUNC-VM: stage 1: $*"
  echo "TSRUNC-VM-EXIT 125"
  sync
  poweroff -f
  sleep 10
}

for m in $(cat /modules/order); do
  insmod "/modules/$m" 2>/dev/null || grep -q "^${m%.ko} " /proc/modules || fail "insmod $m"
done

# the virtio devices probe asynchronously: retry the first mount for a while
i=0
until mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /host 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 100 ] || fail "cannot mount the host root (9p tag hostroot)"
  sleep 0.05
done
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/host,upperdir=/rw/upper,workdir=/rw/work overlay /newroot ||
  fail "cannot mount the overlay root"

R=/newroot
# what must stay visible where the tmpfs mounts below would hide it (a checkout
# under /tmp): the project dir and the cache dir, from the overlay (writable)
KVER=$(uname -r)
if [ -n "$tsrunc_vm_dir" ] && [ -d "$R$tsrunc_vm_dir/kernel/lib/modules/$KVER" ]; then
  # the kernel's modules (cache dir, through the host root) for modprobe in the guest
  mkdir -p "$R/lib/modules/$KVER" && mount --bind "$R$tsrunc_vm_dir/kernel/lib/modules/$KVER" "$R/lib/modules/$KVER"
fi
keep=
case "$tsrunc_vm_project/" in
  /tmp/* | /run/* | /var/tmp/* | /dev/*)
    mkdir -p /keep && mount --bind "$R$tsrunc_vm_project" /keep && keep=1 ;;
esac

mount --move /dev $R/dev
mount --move /proc $R/proc
mount --move /sys $R/sys
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts $R/dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs $R/tmp
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs $R/run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs $R/var/tmp 2>/dev/null
# cgroup v2 alone, with systemd's options (systemd mounts it itself)
if [ "$tsrunc_vm_init" != systemd ]; then
  mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 $R/sys/fs/cgroup ||
    fail "cannot mount cgroup2 on /sys/fs/cgroup"
fi
if [ -n "$keep" ]; then
  mkdir -p "$R$tsrunc_vm_project" && mount --move /keep "$R$tsrunc_vm_project" || fail "cannot keep $tsrunc_vm_project visible"
fi

mkdir -p $R/run/tsrunc-vm/io
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 vmio $R/run/tsrunc-vm/io ||
  fail "cannot mount the run dir (9p tag vmio)"
cp /bin/busybox /stage2.sh $R/run/tsrunc-vm/

if [ "$tsrunc_vm_init" = systemd ]; then
  # systemd as PID 1, in the overlay (only the guest's RAM is written)
  [ -x $R/lib/systemd/systemd ] || fail "no /lib/systemd/systemd in the host's root"
  # a machine id of its own: without one systemd boots as a first boot
  # (presets applied to every unit, systemd-firstboot)
  tr -d - < $R/proc/sys/kernel/random/uuid > $R/etc/machine-id
  # a VM, whatever the host is: with /.dockerenv (a host that is a docker
  # container) systemd believes it runs in a container and then ignores the
  # kernel command line (systemd.unit=...) and skips units
  rm -f $R/.dockerenv $R/.containerenv
  # no mounts of the host's (stage 1 mounted what the guest needs)
  : > $R/etc/fstab
  echo tsrunc-vm > $R/etc/hostname
  U=$R/etc/systemd/system
  mkdir -p $U/emergency.service.d $U/rescue.service.d $R/etc/systemd/journald.conf.d $R/etc/tmpfiles.d
  # what the host's /etc adds to the targets the guest reaches is the host's
  for w in sysinit basic sockets paths timers local-fs remote-fs; do
    for f in $U/$w.target.wants/*; do
      [ -L "$f" ] || [ -e "$f" ] || continue
      case ${f##*/} in dbus.* | systemd-journald* | tsrunc-vm*) continue ;; esac
      ln -sfn /dev/null "$U/${f##*/}"
    done
  done
  for u in $(grep -v '^#' /systemd/masked); do
    ln -sfn /dev/null "$U/$u"
  done
  # generators: each one is a process before the first unit starts (seconds
  # under TCG), and they make units of the host's configuration (fstab,
  # /etc/init.d, gettys, postgresql's clusters...); the guest needs none but
  # systemd-debug-generator (systemd.mask=, systemd.wants= on the command line)
  mkdir -p $R/etc/systemd/system-generators
  for g in $R/lib/systemd/system-generators/* $R/usr/lib/systemd/system-generators/* $R/usr/local/lib/systemd/system-generators/*; do
    [ -e "$g" ] || continue
    case ${g##*/} in systemd-debug-generator) continue ;; esac
    ln -sfn /dev/null "$R/etc/systemd/system-generators/${g##*/}"
  done
  cp /systemd/tsrunc-vm.target /systemd/tsrunc-vm-cmd.service /systemd/tsrunc-vm-fail.service $U/
  cp /systemd/emergency.conf $U/emergency.service.d/tsrunc-vm.conf
  cp /systemd/emergency.conf $U/rescue.service.d/tsrunc-vm.conf
  cp /systemd/journald.conf $R/etc/systemd/journald.conf.d/tsrunc-vm.conf
  # /tmp is stage 1's tmpfs, and may hold the project dir (kept above): not
  # emptied at boot (Debian's tmpfiles.d/tmp.conf says D)
  echo 'd /tmp 1777 root root -' > $R/etc/tmpfiles.d/tmp.conf
  mkdir -p $R/run/tsrunc-vm/systemd
  cp /systemd/guest.sh $R/run/tsrunc-vm/systemd/
  exec switch_root $R /lib/systemd/systemd
  fail "switch_root to /lib/systemd/systemd failed"
fi

exec switch_root $R /run/tsrunc-vm/busybox sh /run/tsrunc-vm/stage2.sh
fail "switch_root failed"
EOF
chmod 755 "$STAGE/init"

# ---- stage 2: PID 1 in the guest's real root ----------------------------------
cat > "$STAGE/stage2.sh" <<'EOF'
# tsrunc test guest, stage 2 (PID 1, run by busybox sh): check that only cgroup
# v2 is there, run /run/tsrunc-vm/io/cmd.sh in a cgroup of its own, report its
# exit status and power off.
bb=/run/tsrunc-vm/busybox
io=/run/tsrunc-vm/io
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb
cd /

finish() {
  echo "$1" > $io/exit-code
  $bb sync
  echo
  echo "TSRUNC-VM-EXIT $1"
  $bb poweroff -f
  $bb sleep 10
}

$bb hostname tsrunc-vm
$bb ip link set lo up
$bb ln -sf /proc/self/mounts /etc/mtab 2>/dev/null

# ---- only cgroup v2 ----
v2fail() {
  echo "TSRUNC-VM-CGROUP FAIL: $*"
  finish 125
}
$bb grep -qw cgroup_no_v1=all /proc/cmdline || v2fail "cgroup_no_v1=all is not on the kernel command line"
[ -f /sys/fs/cgroup/cgroup.controllers ] || v2fail "/sys/fs/cgroup is not cgroup2"
$bb grep -q ' - cgroup ' /proc/self/mountinfo && v2fail "a cgroup v1 hierarchy is mounted"
$bb mkdir -p /run/tsrunc-vm/v1probe
for c in memory pids cpu cpuset devices freezer blkio; do
  if $bb mount -t cgroup -o $c cgroup /run/tsrunc-vm/v1probe 2>/dev/null; then
    $bb umount /run/tsrunc-vm/v1probe
    v2fail "the v1 $c controller can still be mounted"
  fi
done
controllers=$($bb cat /sys/fs/cgroup/cgroup.controllers)
for c in memory pids cpu; do
  case " $controllers " in *" $c "*) ;; *) v2fail "the $c controller is missing from cgroup2 (it has: $controllers)" ;; esac
done
echo "TSRUNC-VM-CGROUP ok: cgroup2 only (cgroup_no_v1=all, no v1 controller mountable); controllers: $controllers; kernel $($bb uname -r)"

# the command runs in a cgroup of its own, as a systemd service would: not in
# the root cgroup, with the root's subtree_control left as the kernel made it
$bb mkdir -p /sys/fs/cgroup/system.slice/tsrunc-vm.service
echo $$ > /sys/fs/cgroup/system.slice/tsrunc-vm.service/cgroup.procs || v2fail "cannot join a cgroup"

[ -f $io/cmd.sh ] || { echo "TSRUNC-VM: no $io/cmd.sh"; finish 125; }
# this shell, as PID 1, reaps the orphans (detached containers' inits) while it waits
$bb sh $io/cmd.sh </dev/null
finish $?
EOF

(cd "$STAGE" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) | gzip -1 > "$VM_DIR/initramfs.cpio.gz.tmp"
mv "$VM_DIR/initramfs.cpio.gz.tmp" "$VM_DIR/initramfs.cpio.gz"
rm -rf "$STAGE"
echo "$stamp" > "$VM_DIR/initramfs.stamp"
log "done: $VM_DIR (kernel $KVER, initramfs $(du -h "$VM_DIR/initramfs.cpio.gz" | cut -f1))"
