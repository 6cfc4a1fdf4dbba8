#!/usr/bin/env bash
# Runs the README's two commands, `./dev.sh demo` and `./dev.sh test`, in a new minimal Debian 12
# root (debootstrap --variant=minbase), as a new user on a bare machine would: nothing installed
# but what dev.sh installs itself. This is how a missing install step is caught: CI runs on a
# machine that already has the packages.
#
# Needs root (debootstrap, chroot, mounts) and the network path to the Debian archive this
# machine's apt uses. Takes about 20 minutes on 2 cores; not part of `./dev.sh test`.
#
#   ./dev.sh fresh                  (installs debootstrap, then runs this)
#   tests/fresh/run_fresh.sh [--rebuild] [COMMAND...]
#     --rebuild   debootstrap the cached base root again
#     COMMAND     what to run in the root instead of "./dev.sh demo && ./dev.sh test"
# Environment: GIDLOG_FRESH_DIR (default /var/tmp/gidlog-fresh) holds the cached base root
# (base/), the root of this run (root/) and its log (run.log).
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD

[ "$(id -u)" -eq 0 ] || { echo "run_fresh.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "run_fresh.sh: apt-get install debootstrap" >&2; exit 1; }

dir=${GIDLOG_FRESH_DIR:-/var/tmp/gidlog-fresh}
base=$dir/base
root=$dir/root
rebuild=0
if [ "${1:-}" = "--rebuild" ]; then rebuild=1; shift; fi
run_cmd=${*:-"./dev.sh demo && ./dev.sh test"}

# The Debian mirror this machine's apt already uses (deb822 .sources or a one-line sources.list);
# debootstrap's own default when none is found.
mirror=$(
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
  } | grep -v -e security -e '^$' | head -n 1 || true)

mkdir -p "$dir"
if [ $rebuild -eq 1 ] || [ ! -x "$base/bin/bash" ]; then
  rm -rf "$base"
  echo "run_fresh.sh: debootstrap --variant=minbase bookworm $base ${mirror:-(default mirror)}"
  debootstrap --variant=minbase bookworm "$base" ${mirror:+"$mirror"} > "$dir/debootstrap.log" 2>&1 ||
    { tail -n 20 "$dir/debootstrap.log" >&2; exit 1; }
fi

# A new root for every run, copied from the cached base: nothing a previous run installed survives.
cleanup() {
  for m in dev/pts dev proc sys/fs/cgroup sys; do mountpoint -q "$root/$m" && umount -l "$root/$m"; done
  mountpoint -q "$root" && umount -l "$root"
  return 0
}
trap cleanup EXIT
cleanup
rm -rf "$root"
cp -a "$base" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The root a mount point of its own, as / is on a machine: the journald tests make every mount
# private in a namespace of their own (mount --make-rprivate /), which fails with EINVAL on a
# chroot's / that is only a directory of the host's root mount.
mount --bind "$root" "$root"
mount --make-private "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
# The host's cgroup hierarchy: systemd-journald (the journald tests run one) will not start without it.
if mountpoint -q /sys/fs/cgroup; then mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup"; mount --make-rslave "$root/sys/fs/cgroup"; fi
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

# Services that a package install would start (rsyslog, say) stay down in the chroot, as in a
# container: invoke-rc.d asks policy-rc.d, and 101 means "not allowed".
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

# What CI builds: the committed tree (HEAD), not edits in progress; GIDLOG_FRESH_TREE=worktree
# takes the working tree as it is instead (tracked files and new files not ignored).
mkdir -p "$root/root/gidlog"
if [ "${GIDLOG_FRESH_TREE:-head}" = worktree ]; then
  git -C "$src" ls-files -z --cached --others --exclude-standard |
    tar -C "$src" --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$root/root/gidlog"
else
  git -C "$src" archive HEAD | tar -xf - -C "$root/root/gidlog"
fi

echo "run_fresh.sh: running '$run_cmd' in $root (log: $dir/run.log)"
start=$(date +%s)
set +e
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  bash -c "cd /root/gidlog && $run_cmd" > "$dir/run.log" 2>&1
rc=$?
set -e
tail -n 15 "$dir/run.log"
echo "run_fresh.sh: exit $rc after $(( $(date +%s) - start )) s"
exit $rc
