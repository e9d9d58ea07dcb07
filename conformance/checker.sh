#!/bin/sh
# tsrunc conformance checker: runs INSIDE the container (busybox sh only) and
# prints what it sees as machine-readable lines:
#
#     <key> TAB <field> [TAB <field>...]
#
# The harness (conformance/lib/facts.js) parses these lines; each section
# below is independent, so a new check only needs a new section here and a
# parser/comparison on the harness side. Unknown keys are ignored by the
# parser. The last line is "end<TAB>ok" when the script ran to its end.
#
# Arguments (each may be repeated):
#   masked=PATH     report how PATH is masked (type, readable bytes, entries)
#   readonly=PATH   report whether a write to PATH fails
#   write=PATH      same write probe as readonly= (for writable mounts)
#   read=PATH       print the first line of the file PATH
#   stat=PATH       print type/major/minor/mode/uid/gid of PATH
#   sysctl=KEY      print the value of /proc/sys/KEY (dots become slashes)
#   wait=PATH       print "ready", then wait (max 60 s) until PATH exists
#                   before collecting facts (the harness acts in between)
#   exit=N          exit with status N at the end
#
# Values never contain a TAB or newline: mountinfo escapes whitespace, and
# free-form data (environ) is printed as hex.

PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PATH
LC_ALL=C
export LC_ALL

SELF=$$
TAB='	'
EXIT=0
MASKED=''
READONLY=''
WRITE=''
READ=''
STAT=''
SYSCTL=''
WAIT=''

# Lists are newline-separated; paths with newlines are not supported.
NL='
'
for arg in "$@"; do
	case "$arg" in
	masked=*) MASKED="$MASKED${arg#masked=}$NL" ;;
	readonly=*) READONLY="$READONLY${arg#readonly=}$NL" ;;
	write=*) WRITE="$WRITE${arg#write=}$NL" ;;
	read=*) READ="$READ${arg#read=}$NL" ;;
	stat=*) STAT="$STAT${arg#stat=}$NL" ;;
	sysctl=*) SYSCTL="$SYSCTL${arg#sysctl=}$NL" ;;
	wait=*) WAIT="${arg#wait=}" ;;
	exit=*) EXIT="${arg#exit=}" ;;
	*) echo "warning${TAB}unknown argument${TAB}$arg" ;;
	esac
done

out() {
	# out KEY FIELD... : one fact line, fields joined by TAB
	_line="$1"
	shift
	for _f in "$@"; do _line="$_line$TAB$_f"; done
	printf '%s\n' "$_line"
}

hex() {
	# hex FILE : the file's bytes as lowercase hex, on one line
	od -An -v -tx1 "$1" 2>/dev/null | tr -d ' \n'
}

out checker start

# --- open file descriptors --------------------------------------------------
# Done first, before any command substitution or pipe can open a descriptor
# in this shell. The glob below opens /proc/$SELF/fd in this shell while it
# expands, but that descriptor is closed again before stat runs, so stat
# cannot read its link and prints nothing for it. busybox sh keeps the script
# itself open on a descriptor >= 10: the harness ignores links to the script.
stat -c "fd${TAB}%n${TAB}%N" /proc/$SELF/fd/* 2>/dev/null

# --- wait for the harness (propagation tests etc.) ---------------------------
if [ -n "$WAIT" ]; then
	out ready 1
	_n=0
	while [ ! -e "$WAIT" ] && [ "$_n" -lt 600 ]; do
		sleep 0.1 2>/dev/null || usleep 100000
		_n=$((_n + 1))
	done
	if [ -e "$WAIT" ]; then out waited ok; else out waited timeout; fi
fi

# --- process identity ---------------------------------------------------------
out pid "$SELF"
if [ -t 0 ]; then out tty stdin 1; else out tty stdin 0; fi
if [ -t 1 ]; then out tty stdout 1; else out tty stdout 0; fi
while IFS= read -r _l; do
	_k=${_l%%:*}
	_v=${_l#*:}
	# squeeze the whitespace of the value
	set -- $_v
	_v="$*"
	case "$_k" in
	Uid | Gid | Groups | Umask | PPid | NSpid | NStgid | CapInh | CapPrm | CapEff | CapBnd | CapAmb | NoNewPrivs | Seccomp | Seccomp_filters)
		out status "$_k" "$_v"
		;;
	esac
done </proc/$SELF/status
out cwd "$(readlink /proc/$SELF/cwd)"
out environ "$(hex /proc/$SELF/environ)"
out cmdline "$(hex /proc/$SELF/cmdline)"
out oom_score_adj "$(cat /proc/$SELF/oom_score_adj 2>/dev/null)"
if [ -r /proc/$SELF/attr/current ]; then
	out lsm_label "$(cat /proc/$SELF/attr/current 2>/dev/null | tr -d '\0')"
fi
while IFS= read -r _l; do
	out limits "$_l"
done </proc/$SELF/limits
for _m in uid gid; do
	if [ -r /proc/$SELF/${_m}_map ]; then
		while read -r _a _b _c; do
			out idmap "$_m" "$_a" "$_b" "$_c"
		done </proc/$SELF/${_m}_map
	fi
done

# --- uts ----------------------------------------------------------------------
out hostname "$(cat /proc/sys/kernel/hostname 2>/dev/null || uname -n)"
out domainname "$(cat /proc/sys/kernel/domainname 2>/dev/null)"

# --- personality ----------------------------------------------------------------
# linux.personality: the persona of this process (/proc/self/personality, hex;
# the execution domain is its low byte) and the machine uname(2) reports under it.
out personality "$(cat /proc/$SELF/personality 2>/dev/null)"
out machine "$(uname -m 2>/dev/null)"

# --- namespaces -----------------------------------------------------------------
for _f in /proc/$SELF/ns/*; do
	_t=$(readlink "$_f" 2>/dev/null) && out ns "${_f##*/}" "$_t"
done

# --- cgroups --------------------------------------------------------------------
while IFS= read -r _l; do
	out cgroup "$_l"
done </proc/$SELF/cgroup

# --- mounts ---------------------------------------------------------------------
while IFS= read -r _l; do
	out mountinfo "$_l"
done </proc/$SELF/mountinfo

# write probe: "ok" when a write succeeded (the probe is removed again),
# otherwise the shell's error message.
probe_write() {
	if [ -d "$1" ]; then
		_p="$1/.conformance-probe-$SELF"
		_e=$({ : >"$_p"; } 2>&1) && { rm -f "$_p"; echo ok; return; }
	elif [ -e "$1" ] || [ -L "$1" ]; then
		_e=$({ : >>"$1"; } 2>&1) && { echo ok; return; }
	else
		echo absent
		return
	fi
	# "sh: can't create /x: Read-only file system" -> keep the reason
	printf '%s\n' "error: ${_e##*: }"
}

out rootwrite "$(probe_write /)"

# --- files and devices ------------------------------------------------------------
# stat line: path, type letter, major, minor (decimal), mode (octal, with
# the special bits), uid, gid, link target (for symlinks)
stat_line() {
	if [ ! -e "$1" ] && [ ! -L "$1" ]; then
		out stat "$1" absent
		return
	fi
	_s=$(stat -c '%f %t %T %u %g' "$1" 2>/dev/null) || { out stat "$1" error; return; }
	set -- "$1" $_s
	_raw=$((0x$2))
	case $((_raw & 0170000)) in
	$((0140000))) _ty=s ;;
	$((0120000))) _ty=l ;;
	$((0100000))) _ty=f ;;
	$((0060000))) _ty=b ;;
	$((0040000))) _ty=d ;;
	$((0020000))) _ty=c ;;
	$((0010000))) _ty=p ;;
	*) _ty='?' ;;
	esac
	_tgt=''
	[ "$_ty" = l ] && _tgt=$(readlink "$1")
	out stat "$1" "$_ty" $((0x$3)) $((0x$4)) "$(printf '%o' $((_raw & 07777)))" "$5" "$6" "$_tgt"
}

for _f in /dev/* /dev/pts/* /dev/mqueue /dev/shm; do
	[ -e "$_f" ] || [ -L "$_f" ] || continue
	stat_line "$_f"
done
for _f in /dev/fd /dev/stdin /dev/stdout /dev/stderr /dev/ptmx /dev/core /dev/console; do
	if [ -L "$_f" ]; then out devlink "$_f" "$(readlink "$_f")"; fi
done
# default devices must be usable, not only present
for _f in /dev/null /dev/zero /dev/full /dev/random /dev/urandom; do
	_n=$(head -c 4 "$_f" 2>/dev/null | wc -c)
	out devread "$_f" "$_n"
done
_e=$({ : >/dev/null; } 2>&1) && out devwrite /dev/null ok || out devwrite /dev/null "error: ${_e##*: }"

echo "$STAT" | while IFS= read -r _f; do
	[ -n "$_f" ] && stat_line "$_f"
done

# --- masked paths ------------------------------------------------------------------
# masked line: path, type letter (or "absent"), major, minor, bytes readable
# (first 64), directory entries, filesystem type
echo "$MASKED" | while IFS= read -r _f; do
	[ -n "$_f" ] || continue
	if [ ! -e "$_f" ]; then
		out masked "$_f" absent
		continue
	fi
	_s=$(stat -c '%f %t %T' "$_f" 2>/dev/null)
	set -- $_s
	_raw=$((0x$1))
	_fs=$(stat -f -c '%T' "$_f" 2>/dev/null)
	if [ -d "$_f" ]; then
		_cnt=$(ls -A "$_f" 2>/dev/null | wc -l)
		out masked "$_f" d 0 0 0 "$_cnt" "$_fs"
	else
		_ty=f
		[ $((_raw & 0170000)) -eq $((0020000)) ] && _ty=c
		_n=$(head -c 64 "$_f" 2>/dev/null | wc -c)
		out masked "$_f" "$_ty" $((0x$2)) $((0x$3)) "$_n" 0 "$_fs"
	fi
done

# --- read-only paths and write probes -------------------------------------------------
echo "$READONLY$WRITE" | while IFS= read -r _f; do
	[ -n "$_f" ] && out write "$_f" "$(probe_write "$_f")"
done
echo "$READ" | while IFS= read -r _f; do
	[ -n "$_f" ] || continue
	if _c=$(head -n 1 "$_f" 2>&1); then out read "$_f" ok "$_c"; else out read "$_f" error "${_c##*: }"; fi
done

# --- sysctls ---------------------------------------------------------------------------
echo "$SYSCTL" | while IFS= read -r _k; do
	[ -n "$_k" ] || continue
	_p=/proc/sys/$(echo "$_k" | tr . /)
	out sysctl "$_k" "$(cat "$_p" 2>/dev/null | tr '\t' ' ')"
done

# --- network ---------------------------------------------------------------------------
for _f in /sys/class/net/*; do
	[ -e "$_f" ] && out netdev "${_f##*/}"
done

out end ok
exit "$EXIT"
