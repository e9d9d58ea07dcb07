#!/bin/sh
# Runs CMD [ARGS...] as it would run on a host whose root filesystem is
# mounted once on `/`, and exits with CMD's status.
#   sh .ci/single-root.sh CMD [ARGS...]
#
# Some CI machines stack two mounts of the root fs on `/` (see the notes on the
# test machines). There a process's root is not the topmost mount on its mount
# namespace's root, so the kernel treats it as chrooted: user namespaces fail
# with EPERM, and setns(mnt), which `exec` does, lands in the other copy. The
# tests would then measure the machine, not the runtime. On such a host CMD
# runs in a private mount namespace whose copies above the process's own root
# are detached, entered again with nsenter (which sets root and cwd to the
# namespace's root, now the single one) and made rshared as `/` is on a normal
# host. Nothing of it reaches the host's mounts, and the namespace has no
# other process: it goes away with CMD. On a normal host CMD runs as is.
set -eu

roots() { awk '$5 == "/"' /proc/self/mountinfo | wc -l; }

case "${1-}" in
--detach-stacked)
  # in the private namespace: detach what is stacked over our root, re-enter
  shift
  i=0
  while [ "$(roots)" -gt 1 ]; do
    i=$((i + 1))
    [ "$i" -le 8 ] || { echo "[ci] could not detach the mounts stacked on /" >&2; exit 1; }
    umount -l /
  done
  exec nsenter --mount=/proc/self/ns/mnt -- sh "$SINGLE_ROOT_SELF" --entered "$@"
  ;;
--entered)
  shift
  n=$(roots)
  [ "$n" -eq 1 ] || { echo "[ci] still $n mounts on / after the repair" >&2; exit 1; }
  mount --make-rshared /
  cd "$SINGLE_ROOT_CWD"
  unset SINGLE_ROOT_SELF SINGLE_ROOT_CWD
  exec "$@"
  ;;
esac

[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }
n=$(roots)
if [ "$n" -le 1 ]; then
  echo "[ci] root mounted once on /: running $* as is"
  exec "$@"
fi
echo "[ci] root mounted $n times on /: running $* in a private mount namespace with a single root"
SINGLE_ROOT_SELF=$(readlink -f "$0")
SINGLE_ROOT_CWD=$PWD
export SINGLE_ROOT_SELF SINGLE_ROOT_CWD
exec unshare -m --propagation private -- sh "$SINGLE_ROOT_SELF" --detach-stacked "$@"
