'use strict';
// Class 6: a host whose root filesystem is mounted more than once on "/" (the
// CI machines, see the notes on the test machines). After pivot_root, every
// mount that was stacked on the host's "/" stays stacked over the container's
// new root unless the runtime detaches it: inside, "/" is the rootfs but
// "/.." (the kernel steps onto the topmost mount on the root) is the host's
// "/", and a process that joins the container's mount namespace, as `exec`
// does, is given that topmost mount as its root: it runs in the host's
// filesystem. runc 1.1.5 leaves one copy there; tsrunc must leave none.
//
// The test builds the condition on any machine: every runtime command runs in
// its own private mount namespace where "/" is bind-mounted onto itself
// (`mount --rbind / /`), so the runtime's root is the lower of two stacked
// copies, as on CI (twice: four copies, for a fix that detaches one more
// mount only). Nothing of it reaches the host's mount namespace: the
// namespace dies with the command, the container's is a copy of it.
//
// A static probe (never a host binary) reports what its "/" is: dev, inode
// and mount id of "/", "/.." and "/bin/.."; `ls -a` of "/" and of "/bin/..";
// whether it sees a marker that exists only in the rootfs and one that exists
// only on the host; how many mounts its mountinfo shows on "/". It runs as
// the container's init and through `exec` / `exec --detach`. It exists at the
// same path in the rootfs and on the host (in the test's temp dir), so an
// `exec` that escapes runs this probe, not a machine binary, and reports the
// escape instead of failing obscurely.
//
// The same checks run against a copy of runc 1.1.5, which must SHOW the hole
// after pivot_root (proof that the probe detects a real escape; its --no-pivot
// cannot start a container here at all), and, as a control, against both
// runtimes where "/" is not stacked, where the probe must see no hole.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const sec = require('./lib');

const test = suite('stacked-root');

const PROBE_SOURCE = String.raw`
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

static void str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20 || c >= 0x7f) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void err(int e) { char b[32]; snprintf(b, sizeof b, "errno %d", e); str(b); }

/* dev, inode and mount id of a path */
static void id(const char *key, const char *p) {
  struct statx sx;
  printf("\"%s\":", key);
  if (statx(AT_FDCWD, p, 0, STATX_INO | STATX_MNT_ID, &sx)) err(errno);
  else printf("{\"dev\":\"%u:%u\",\"ino\":%llu,\"mnt\":%llu}", sx.stx_dev_major, sx.stx_dev_minor,
              (unsigned long long)sx.stx_ino, (unsigned long long)sx.stx_mnt_id);
  putchar(',');
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* the names in a directory, sorted: ls -a */
static void ls(const char *key, const char *p) {
  static char *names[4096];
  int n = 0;
  printf("\"%s\":", key);
  DIR *d = opendir(p);
  if (!d) { err(errno); putchar(','); return; }
  struct dirent *e;
  while ((e = readdir(d)) && n < 4096) names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, n, sizeof names[0], cmp);
  putchar('[');
  for (int i = 0; i < n; i++) { if (i) putchar(','); str(names[i]); }
  printf("],");
}

/* mounts on "/" in /proc/self/mountinfo (-1: unreadable) */
static int mountsOnRoot(void) {
  FILE *f = fopen("/proc/self/mountinfo", "r");
  if (!f) return -1;
  static char l[8192], mp[8192];
  int n = 0;
  while (fgets(l, sizeof l, f))
    if (sscanf(l, "%*s %*s %*s %*s %8191s", mp) == 1 && !strcmp(mp, "/")) n++;
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  if (argc != 5) { fprintf(stderr, "usage: probe once|stay ROOTFS_MARKER HOST_MARKER LABEL\n"); return 2; }
  printf("STK {\"label\":"); str(argv[4]); putchar(',');
  id("root", "/"); id("dotdot", "/.."); id("binDotdot", "/bin/..");
  ls("lsRoot", "/"); ls("lsBinDotdot", "/bin/..");
  printf("\"rootfsMarker\":%s,", access(argv[2], F_OK) ? "false" : "true");
  printf("\"hostMarker\":%s,", access(argv[3], F_OK) ? "false" : "true");
  printf("\"mountsOnRoot\":%d}\n", mountsOnRoot());
  fflush(stdout);
  if (!strcmp(argv[1], "stay")) for (;;) pause();
  return 0;
}
`;

const HAS_UNSHARE = spawnSync('unshare', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * A context whose runtime (the copy from lib.js) runs where "/" is stacked:
 * a wrapper, named as the runtime so the harness treats it the same, runs it
 * in a private mount namespace after `mount --rbind / /`. The probe is put at
 * <base>/probe/stk-probe on the host and at the same path in every rootfs.
 */
function stackedContext(runtime) {
  const ctx = sec.attackContext('stacked-root', { runtime });
  if (!ctx) return undefined;
  const real = ctx.runtime;
  /** A wrapper that runs the runtime after `binds` times `mount --rbind / /` (1: two copies on "/", 2: four). */
  const wrapper = (dir, binds) => {
    const file = path.join(ctx.base, dir, path.basename(real));
    fs.mkdirSync(path.dirname(file), { mode: 0o755 });
    const mounts = Array(binds).fill('mount --rbind / /').join(' && ');
    fs.writeFileSync(file, `#!/bin/sh\nexec unshare -m --propagation private -- sh -c '${mounts} && exec "$0" "$@"' '${real}' "$@"\n`, { mode: 0o755 });
    return file;
  };
  ctx.plainRuntime = real;
  ctx.runtime = wrapper('stacked', 1);
  ctx.deepRuntime = wrapper('stacked-deep', 2);
  ctx.probe = path.join(ctx.base, 'probe', 'stk-probe');
  fs.mkdirSync(path.dirname(ctx.probe), { mode: 0o755 });
  fs.copyFileSync(sec.payload('stacked-root-probe', PROBE_SOURCE), ctx.probe);
  fs.chmodSync(ctx.probe, 0o755);
  ctx.hostMarker = path.join(ctx.base, 'host-only-marker');
  fs.writeFileSync(ctx.hostMarker, '');
  return ctx;
}

const ctxs = {};
if (HAS_UNSHARE) {
  for (const rt of ['tsrunc', 'runc']) {
    const c = stackedContext(rt);
    if (c) {
      ctxs[rt] = c;
      h.install(test, c);
    }
  }
}

const ROOTFS_MARKER = '/stk-rootfs-only-marker';

/** A bundle whose init is the probe ("once": exits, "stay": waits). */
function probeBundle(ctx, mode) {
  const b = ctx.makeBundle({ args: [ctx.probe, mode, ROOTFS_MARKER, ctx.hostMarker, 'init'] });
  fs.mkdirSync(path.join(b.rootfs, path.dirname(ctx.probe)), { recursive: true });
  fs.copyFileSync(ctx.probe, path.join(b.rootfs, ctx.probe));
  fs.chmodSync(path.join(b.rootfs, ctx.probe), 0o755);
  fs.writeFileSync(path.join(b.rootfs, ROOTFS_MARKER), '');
  return b;
}

/** The probe's reports in some output, by label. */
function reports(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('STK ')) continue;
    const r = JSON.parse(line.slice(4));
    out[r.label] = r;
  }
  return out;
}

/** Waits until a file holds the probe's report labelled `label`. */
function reportIn(file, label, timeout = 15000) {
  return sec.waitFor(() => reports(sec.readText(file))[label],
    () => `a "${label}" report from the probe in ${file}:\n${fs.existsSync(file) ? sec.readText(file) : '(missing)'}`, timeout);
}

const idText = (x) => (typeof x === 'string' ? x : `${x.dev}:${x.ino} (mount ${x.mnt})`);
const sameId = (a, b) => typeof a === 'object' && typeof b === 'object' && a.dev === b.dev && a.ino === b.ino && a.mnt === b.mnt;

/** Everything in a report that shows the host's "/" inside the container (empty: none). */
function escapes(ctx, r) {
  const out = [];
  if (!sameId(r.root, r.dotdot)) out.push(`"/.." is ${idText(r.dotdot)}, "/" is ${idText(r.root)}`);
  if (!sameId(r.root, r.binDotdot)) out.push(`"/bin/.." is ${idText(r.binDotdot)}, "/" is ${idText(r.root)}`);
  if (JSON.stringify(r.lsRoot) !== JSON.stringify(r.lsBinDotdot)) {
    out.push(`ls -a /bin/.. differs from ls -a /: ${JSON.stringify(r.lsBinDotdot)} vs ${JSON.stringify(r.lsRoot)}`);
  }
  if (!r.rootfsMarker) out.push(`${ROOTFS_MARKER}, which exists only in the rootfs, is not there`);
  if (r.hostMarker) out.push(`${ctx.hostMarker}, which exists only on the host, is there`);
  if (r.mountsOnRoot !== 1) out.push(`mountinfo shows ${r.mountsOnRoot} mounts on "/"`);
  return out;
}

/** What is wrong with a report for a runtime that must keep the host's "/" out ('' if nothing). */
function holeSeen(ctx, r, what) {
  const e = escapes(ctx, r);
  return e.length ? `${ctx.runtimeName} ${what}: the host's "/" shows through the container's root:\n    ${e.join('\n    ')}` : '';
}

/**
 * What is wrong with a report for runc 1.1.5 after pivot_root, which leaves
 * the host's root stacked: "/" is the rootfs and "/.." the host's for the
 * init; exec lands in the host's filesystem ('' if so).
 */
function holeMissed(ctx, r, what, exec) {
  const e = escapes(ctx, r);
  const shown = exec ? !r.rootfsMarker && r.hostMarker : r.rootfsMarker && !sameId(r.root, r.dotdot);
  return shown ? '' : `${ctx.runtimeName} ${what}: the probe should see the host's "/" (runc 1.1.5 leaves it stacked), saw: ${e.join('; ') || 'none'}`;
}

/**
 * Checks every report of a test, then fails with all that is wrong: tsrunc
 * must keep the host's "/" out; runc must show the hole after pivot_root.
 * views: [[what, report, exec?]].
 */
function checkAll(ctx, views, { noPivot = false } = {}) {
  const wrong = views.map(([what, r, exec]) => {
    if (ctx.runtimeName === 'runc' && !noPivot) return holeMissed(ctx, r, what, exec);
    return holeSeen(ctx, r, what);
  }).filter(Boolean);
  assert.ok(wrong.length === 0, wrong.join('\n  '));
}

function pivotArgs(noPivot) {
  return noPivot ? ['--no-pivot'] : [];
}

/** `exec` and `exec --detach` of the probe in a running container: both reports. */
async function execBoth(ctx, id) {
  const args = [ctx.probe, 'once', ROOTFS_MARKER, ctx.hostMarker];
  const r = ctx.rt(['exec', id, ...args, 'exec']);
  assert.is(r.status, 0, `exec: ${r.stderr}`);
  const fg = reports(r.stdout).exec;
  assert.ok(fg, `exec printed no report:\n${r.stdout}\n${r.stderr}`);
  const out = ctx.tmp('exec-detach.out');
  const d = ctx.rt(['exec', '--detach', id, ...args, 'exec-detach'], { stdoutPath: out });
  assert.is(d.status, 0, `exec --detach: ${d.stderr}`);
  return { fg, detached: await reportIn(out, 'exec-detach') };
}

/**
 * `run --detach` of the probe ("stay") with `runtime` (ctx.deepRuntime or
 * ctx.plainRuntime) in place of ctx's for the whole test: the reports of its
 * init, exec and exec --detach; the container is deleted and nothing is left.
 */
async function runDetachedWith(ctx, runtime) {
  const b = probeBundle(ctx, 'stay');
  const id = ctx.id('stk');
  const initOut = ctx.tmp('init.out');
  const stacked = ctx.runtime;
  ctx.runtime = runtime;
  let views;
  try {
    const r = ctx.rt(['run', '--detach', '--bundle', b.dir, id], { stdoutPath: initOut });
    assert.is(r.status, 0, `run --detach: ${r.stderr}`);
    const init = await reportIn(initOut, 'init');
    views = { init, ...(await execBoth(ctx, id)) };
    assert.is(ctx.rt(['delete', '--force', id]).status, 0);
  } finally {
    ctx.runtime = stacked;
  }
  ctx.leftovers({ id, bundle: b });
  return views;
}

/** The context of a runtime, or undefined (the test skipped) when it cannot run here. */
function need(rt) {
  if (!HAS_UNSHARE) skip('unshare (util-linux) is not installed');
  else if (!ctxs[rt]) skip(`${rt} is not installed`);
  return ctxs[rt];
}

/**
 * runc 1.1.5 --no-pivot cannot start a container where "/" is stacked (it
 * fails making the host's mounts slaves: "mount /proc, flags: 0x84000:
 * invalid argument"): then the test is skipped with that reason. Returns true
 * when skipped.
 */
function runcCannotStart(ctx, r, noPivot) {
  if (ctx.runtimeName !== 'runc' || !noPivot || r.status === 0 || !/error jailing process inside rootfs/.test(r.stderr)) return false;
  skip(`runc 1.1.5 --no-pivot cannot start a container where "/" is stacked: ${r.stderr.trim()}`);
  return true;
}

for (const rt of ['tsrunc', 'runc']) {
  for (const noPivot of [false, true]) {
    const how = noPivot ? ' --no-pivot' : '';

    test(`${rt}${how}: run: the init's "/" is the rootfs and nothing is stacked over it`, () => {
      const ctx = need(rt);
      if (!ctx) return;
      const b = probeBundle(ctx, 'once');
      const id = ctx.id('stk');
      const r = ctx.rt(['run', ...pivotArgs(noPivot), '--bundle', b.dir, id]);
      if (runcCannotStart(ctx, r, noPivot)) return;
      assert.is(r.status, 0, `run: ${r.stderr}`);
      const init = reports(r.stdout).init;
      assert.ok(init, `run printed no report:\n${r.stdout}\n${r.stderr}`);
      checkAll(ctx, [[`run${how} (init)`, init]], { noPivot });
      ctx.leftovers({ id, bundle: b });
    });

    for (const start of ['create + start', 'run --detach']) {
      test(`${rt}${how}: ${start}, then exec and exec --detach run in the rootfs`, async () => {
        const ctx = need(rt);
        if (!ctx) return;
        const b = probeBundle(ctx, 'stay');
        const id = ctx.id('stk');
        const initOut = ctx.tmp('init.out');
        const first = start === 'run --detach' ? ['run', '--detach'] : ['create'];
        const c = ctx.rt([...first, ...pivotArgs(noPivot), '--bundle', b.dir, id], { stdoutPath: initOut });
        if (runcCannotStart(ctx, c, noPivot)) return;
        assert.is(c.status, 0, `${first.join(' ')}: ${c.stderr}`);
        if (start === 'create + start') {
          const s = ctx.rt(['start', id]);
          assert.is(s.status, 0, `start: ${s.stderr}`);
        }
        const init = await reportIn(initOut, 'init');
        const { fg, detached } = await execBoth(ctx, id);
        checkAll(ctx, [
          [`${start}${how} (init)`, init],
          [`${start}${how}, exec`, fg, true],
          [`${start}${how}, exec --detach`, detached, true],
        ], { noPivot });
        assert.is(ctx.rt(['delete', '--force', id]).status, 0);
        ctx.leftovers({ id, bundle: b });
      });
    }
  }

  // a fix that detaches one more mount is not enough: "/" stacked four times
  test(`${rt}: "/" stacked 4 times: run --detach, then exec and exec --detach run in the rootfs`, async () => {
    const ctx = need(rt);
    if (!ctx) return;
    const { init, fg, detached } = await runDetachedWith(ctx, ctx.deepRuntime);
    checkAll(ctx, [['stacked 4 times, run --detach (init)', init], ['stacked 4 times, exec', fg, true], ['stacked 4 times, exec --detach', detached, true]]);
  });

  // the control: where "/" is not stacked, the probe sees no hole (no false alarm)
  test(`${rt}, "/" not stacked (control): run --detach, exec and exec --detach see no host "/"`, async () => {
    const ctx = need(rt);
    if (!ctx) return;
    const { init, fg, detached } = await runDetachedWith(ctx, ctx.plainRuntime);
    const wrong = [['not stacked, run --detach (init)', init], ['not stacked, exec', fg], ['not stacked, exec --detach', detached]]
      .map(([what, r]) => holeSeen(ctx, r, what)).filter(Boolean);
    assert.ok(wrong.length === 0, wrong.join('\n  '));
  });
}

test.run();
