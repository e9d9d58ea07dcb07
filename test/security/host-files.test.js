'use strict';
// Files the runtime writes or runs on the host, attacked by an unprivileged
// local user (nobody, 65534): the pid file, the state root with its container
// dirs and exec fifo, the launcher's V8 code cache, and the NODE_* variables
// that decide what code node runs before the launcher's first line.
//
// The runtime is the copy from ./lib.js (node + project), so an attack that
// succeeds changes only the copy; what the attacker makes root do is write a
// marker file in the test's temp dir. The tests that apply to any runtime run
// against runc 1.1.5 too; KNOWN_RUNC lists where runc itself fails them.
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { test } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');
const { skip } = require('../lib/skip');
const { attackContext, runtimeCopies, expectRuncWeakness } = require('./lib');

const NOBODY = 65534;
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

// Measured with runc 1.1.5+ds1-1+deb12u1 (Debian 12).
const KNOWN_RUNC = {
  'pid file: symlinks planted at its temp and final names redirect no write and stop nothing':
    'a file planted at runc\'s fixed temp name ".<name>" makes create fail (O_EXCL: "file exists"): no write is redirected, but the attacker can stop every create',
  'state root and container dir are 0700 whatever the umask':
    'runc makes its container dirs 0711 (its 0700 root hides them; a root that existed before with 0755 does not)',
  'checkpoint: a symlink planted at descriptors.json in an image directory another user owns redirects no write':
    'runc writes descriptors.json with os.WriteFile, through the planted symlink, as root',
};

const contexts = { tsrunc: attackContext('hostfiles'), runc: attackContext('hostfiles', { runtime: 'runc' }) };
for (const c of Object.values(contexts)) {
  if (!c) continue;
  h.install(test, c);
  // the runtime makes its own state root, as /run/tsrunc or /run/runc is made
  fs.rmSync(c.root, { recursive: true, force: true });
}

/** A test of both runtimes; a runc failure listed in KNOWN_RUNC is reported, not failed. */
function bothRuntimes(name, fn) {
  for (const [runtime, c] of Object.entries(contexts)) {
    test(`${name} (${runtime})`, async () => {
      if (!c) return skip(`${name}: runc is not installed`);
      const known = runtime === 'runc' ? KNOWN_RUNC[name] : undefined;
      if (!known) return fn(c);
      return expectRuncWeakness('host-files', name, known, () => fn(c));
    });
  }
}

/** Runs a node script as nobody (the copy's node: the same V8 as the runtime's). */
function asNobody(script, ...args) {
  const { nodeFlags = ['--single-threaded'] } = typeof args[0] === 'object' ? args.shift() : {};
  const r = spawnSync(runtimeCopies().node, [...nodeFlags, '-e', script, ...args], {
    uid: NOBODY, gid: NOBODY, encoding: 'utf8', cwd: '/', timeout: 30000,
  });
  if (r.status !== 0) throw new Error(`attacker script failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Runs the runtime as `sh -c SCRIPT sh RUNTIME --root ROOT ARGS...` (the
 * harness's rt() with `sh`): SCRIPT prepares and then `exec "$@"`, so the
 * runtime runs as this shell's pid ($$).
 */
const runVia = (c, script, args, env = {}) => c.rt(args, { sh: script, env: { ...process.env, ...env } });

const mode = (p) => fs.lstatSync(p).mode & 0o7777;
const octal = (m) => `0${m.toString(8)}`;
const readOr = (p, dflt) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : dflt);

// ---------------------------------------------------------------- pid file

bothRuntimes('pid file: symlinks planted at its temp and final names redirect no write and stop nothing', (c) => {
  if (!SETPRIV) return skip('setpriv (util-linux) is not installed: the attacker cannot plant for the runtime\'s own pid');
  // a directory the attacker owns (a sticky /tmp works as well where fs.protected_symlinks is 0)
  const dir = c.tmp('piddir');
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chownSync(dir, NOBODY, NOBODY);
  const victims = [c.tmp('victim'), c.tmp('victim')];
  victims.forEach((v) => fs.writeFileSync(v, 'precious\n', { mode: 0o644 }));
  const pidFile = path.join(dir, 'pid');
  asNobody('require("fs").symlinkSync(process.argv[1], process.argv[2])', victims[1], pidFile);
  const id = c.id('hst');
  const b = c.makeBundle();
  // tsrunc wrote through ".pid.<its pid>", runc through ".pid": the attacker
  // plants both for the pid the runtime will have (this shell execs it)
  const plant = `${SETPRIV} --reuid=${NOBODY} --regid=${NOBODY} --clear-groups /bin/sh -c 'ln -s "$0" "$1/.pid.$2" && ln -s "$0" "$1/.pid"' "$VICTIM" "$PIDDIR" $$ || exit 99; exec "$@"`;
  const r = runVia(c, plant, ['create', '--bundle', b.dir, '--pid-file', pidFile, id], { VICTIM: victims[0], PIDDIR: dir });
  assert.is.not(r.status, 99, `the attacker could not plant: ${r.stderr}`);
  victims.forEach((v) => assert.is(readOr(v, '(gone)'), 'precious\n', `root wrote the pid through a planted symlink into ${v}`));
  assert.is(r.status, 0, `create with symlinks planted at the pid file's names: ${r.stderr}`);
  const st = fs.lstatSync(pidFile);
  assert.ok(st.isFile(), 'the pid file is a regular file, not the planted symlink');
  assert.is(st.uid, 0);
  assert.is(fs.readFileSync(pidFile, 'utf8'), String(c.state(id).pid));
  const ours = fs.readdirSync(dir).filter((n) => n === 'pid' || !fs.lstatSync(path.join(dir, n)).isSymbolicLink());
  assert.equal(ours, ['pid'], 'no temp file left beside it');
});

// ---------------------------------------------------------------- state root, container dir, exec fifo

// ---------------------------------------------------------------- checkpoint

bothRuntimes('checkpoint: a symlink planted at descriptors.json in an image directory another user owns redirects no write', (c) => {
  const criu = spawnSync('sh', ['-c', 'command -v criu || ls /usr/sbin/criu'], { encoding: 'utf8' });
  if (criu.status !== 0) return skip('criu is not installed: checkpoint stops before it writes anything');
  const dir = c.tmp('imgdir');
  fs.mkdirSync(dir, { mode: 0o755 });
  fs.chownSync(dir, NOBODY, NOBODY);
  const victim = c.tmp('victim');
  fs.writeFileSync(victim, 'precious\n', { mode: 0o644 });
  const planted = path.join(dir, 'descriptors.json');
  asNobody('require("fs").symlinkSync(process.argv[1], process.argv[2])', victim, planted);
  const id = c.id('hcp');
  const b = c.makeBundle({ args: ['sleep', '100'] });
  assert.is(c.rt(['run', '-d', '--bundle', b.dir, id]).status, 0, 'run -d');
  // whether CRIU then dumps (where it works with the kernel) or fails does not matter: descriptors.json comes first
  const r = c.rt(['checkpoint', '--image-path', dir, id]);
  assert.is(readOr(victim, '(gone)'), 'precious\n', `root wrote descriptors.json through the planted symlink into the victim (checkpoint: ${r.status} ${r.stderr})`);
  const st = fs.lstatSync(planted);
  assert.ok(st.isFile(), 'descriptors.json is a file of its own, not the planted link');
  assert.is(st.uid, 0);
  assert.is(mode(planted), 0o600, `descriptors.json mode ${octal(mode(planted))}`);
  c.rt(['delete', '--force', id]);
});

bothRuntimes('exec.fifo of a created container: another user cannot open it', (c) => {
  const id = c.id('hst');
  const b = c.makeBundle();
  const r = c.rt(['create', '--bundle', b.dir, id]);
  assert.is(r.status, 0, r.stderr);
  const fifo = path.join(c.root, id, 'exec.fifo');
  assert.ok(fs.lstatSync(fifo).isFIFO(), 'the runtime keeps its fifo at <root>/<id>/exec.fifo');
  // O_NONBLOCK: ENXIO (no reader yet) means the open passed the permission check
  // and a blocking open would now wait for `start`, to feed it a forged answer
  const got = asNobody(`
    const fs = require('fs');
    try { fs.openSync(process.argv[1], fs.constants.O_WRONLY | fs.constants.O_NONBLOCK); console.log('opened'); }
    catch (e) { console.log(e.code); }`, fifo);
  assert.is(got, 'EACCES', `nobody opening ${fifo} for writing: ${got}`);
});

bothRuntimes('state root and container dir are 0700 whatever the umask', (c) => {
  const id = c.id('hst');
  const b = c.makeBundle();
  const r = runVia(c, 'umask 000; exec "$@"', ['create', '--bundle', b.dir, id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(octal(mode(c.root)), '0700', `state root ${c.root}`);
  assert.is(octal(mode(path.join(c.root, id))), '0700', 'container dir');
  const got = asNobody(`
    const fs = require('fs');
    for (const f of ['exec.fifo', 'state.json']) {
      try { fs.statSync(process.argv[1] + '/' + f); console.log(f + ' visible'); } catch (e) { console.log(f + ' ' + e.code); }
    }`, path.join(c.root, id));
  assert.is(got, 'exec.fifo EACCES\nstate.json EACCES', 'what nobody sees of the container dir');
});

/** A stopped container "evil" whose poststop hook writes the caller's uid to `marker`: what the attacker plants. */
function plantedState(root, marker) {
  return {
    ociVersion: '1.2.0', id: 'evil', pid: 0, pidStartTime: '', bundle: root, rootfs: root,
    created: '2024-01-01T00:00:00Z', owner: '',
    config: { ociVersion: '1.2.0', hooks: { poststop: [{ path: '/bin/sh', args: ['sh', '-c', `id -u > ${marker}`], env: ['PATH=/usr/bin:/bin'] }] } },
  };
}

/** The attacker (nobody) plants container "evil" in `root`; root then runs `delete --force evil` and `list`. */
function plantAndDelete(c, root, marker) {
  asNobody(`
    const fs = require('fs');
    const [root, state] = process.argv.slice(1);
    fs.mkdirSync(root + '/evil', { recursive: true });
    fs.writeFileSync(root + '/evil/state.json', state);`, root, JSON.stringify(plantedState(root, marker)));
  const del = c.rt(['--root', root, 'delete', '--force', 'evil'], { noRoot: true });
  const list = c.rt(['--root', root, 'list', '-q'], { noRoot: true });
  assert.is(readOr(marker, '(none)'), '(none)', `root ran the planted container's poststop hook: delete said ${JSON.stringify(del.stderr)}`);
  assert.is.not(list.stdout.trim(), 'evil', 'list shows the planted container');
  return { del, list };
}

const errorOf = (r) => h.errorMessage(r.stderr);

test('a state root another user owns is refused, not used (tsrunc)', () => {
  const c = contexts.tsrunc;
  const root = c.tmp('root-of-nobody');
  fs.mkdirSync(root, { mode: 0o755 });
  fs.chownSync(root, NOBODY, NOBODY);
  const { del } = plantAndDelete(c, root, c.tmp('marker'));
  assert.is(del.status, 1);
  assert.is(errorOf(del), `unsafe state root ${root}: owned by uid ${NOBODY}, not by uid 0`);
});

test('a state root writable by others is refused, not used (tsrunc)', () => {
  const c = contexts.tsrunc;
  const root = c.tmp('root-0777');
  fs.mkdirSync(root);
  fs.chmodSync(root, 0o777);
  const { del } = plantAndDelete(c, root, c.tmp('marker'));
  assert.is(del.status, 1);
  assert.is(errorOf(del), `unsafe state root ${root}: writable by group or others (mode 0777)`);
});

test('a state root that is a symlink is refused, not followed (tsrunc)', () => {
  const c = contexts.tsrunc;
  const target = c.tmp('root-target');
  fs.mkdirSync(target);
  fs.chownSync(target, NOBODY, NOBODY);
  const root = c.tmp('root-link');
  fs.symlinkSync(target, root);
  const { del } = plantAndDelete(c, root, c.tmp('marker'));
  assert.is(del.status, 1);
  assert.is(errorOf(del), `unsafe state root ${root}: a symbolic link`);
});

// ---------------------------------------------------------------- the launcher's V8 code cache

/**
 * The attacker's cache: compiled (as nobody, with the node flags bin/tsrunc
 * starts node with: V8 rejects a cache made under other flags) from a source
 * of the bundle's length (V8 checks a cache against the source's length
 * only): the bundle's function (scripts/bundle/wrap.js), whose body writes
 * root's uid to `marker`, padded with spaces. The function is compiled eagerly
 * (a parenthesized function), so its body is in the cache. Written over every
 * cache file of `cacheDir`, in place when the file is writable, else by
 * rename when the directory is. Prints what it managed, per file.
 */
const CRAFT = `
  const fs = require('fs');
  const vm = require('vm');
  const [bundle, cacheDir, marker] = process.argv.slice(1);
  const src = fs.readFileSync(bundle, 'latin1');
  const head = src.slice(0, src.indexOf('{') + 1);
  const tail = '\\n})';
  const payload = 'process.getuid()===0&&require("fs").writeFileSync(' + JSON.stringify(marker) + ',"0");';
  const mod = head + payload + ' '.repeat(src.length - head.length - payload.length - tail.length) + tail;
  if (mod.length !== src.length || !src.endsWith(tail)) throw new Error('could not keep the length');
  const script = new vm.Script(mod, { filename: bundle });
  script.runInThisContext(); // the function, eagerly compiled with the payload, goes into the cache
  const data = script.createCachedData();
  let names;
  try { names = fs.readdirSync(cacheDir).filter((n) => n.endsWith('.bin')); } catch (e) { console.log('readdir ' + e.code); process.exit(0); }
  for (const n of names) {
    const file = cacheDir + '/' + n;
    try { fs.writeFileSync(file, data); console.log(n + ' overwritten'); continue; } catch (e) { /* try the directory */ }
    try { fs.writeFileSync(file + '.x', data); fs.renameSync(file + '.x', file); console.log(n + ' replaced'); } catch (e) { console.log(n + ' ' + e.code); }
  }`;

/** The flags bin/tsrunc's sh line starts node with (those of a cache V8 accepts). */
function launcherNodeFlags() {
  const line = fs.readFileSync(path.join(runtimeCopies().project, 'bin', 'tsrunc'), 'utf8').split('\n')[1];
  const m = / exec node (.*?) -- "\$0"/.exec(line);
  if (!m) throw new Error(`no "exec node FLAGS -- "$0"" in bin/tsrunc's sh line: ${line}`);
  return m[1].split(' ');
}

function cachePaths() {
  const { project } = runtimeCopies();
  return { dir: path.join(project, 'dist', '.v8-cache'), bundle: path.join(project, 'dist', 'tsrunc.js') };
}

/**
 * Runs the copy's `state x` as root (umask 000 when `umask0`), then the attack, then `before`
 * (the control's), then `state x` again; returns the marker's content.
 */
function cacheAttack(c, { umask0 = false, tamper = () => undefined, before = () => undefined } = {}) {
  const { dir, bundle } = cachePaths();
  fs.rmSync(dir, { recursive: true, force: true }); // earlier tests ran the copy with the usual umask
  const marker = c.tmp('marker');
  try {
    const first = runVia(c, umask0 ? 'umask 000; exec "$@"' : 'exec "$@"', ['state', 'x']);
    assert.match(first.stderr, /container does not exist/);
    tamper(dir);
    const planted = asNobody(CRAFT, { nodeFlags: launcherNodeFlags() }, bundle, dir, marker);
    before(dir);
    const second = runVia(c, 'exec "$@"', ['state', 'x']);
    return { marker: readOr(marker, '(none)'), planted, second };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true }); // never leave a crafted cache for the next test file
  }
}

test('code cache: control: the attacker\'s cache, once it looks like root\'s own, is run (what the tests below rely on)', () => {
  const c = contexts.tsrunc;
  // root's 0700 directory, and the crafted files made root's 0600 by the test: only the launcher's
  // ownership and mode checks stand between them and the tests below
  const { marker, planted } = cacheAttack(c, {
    tamper: (dir) => fs.chmodSync(dir, 0o777),
    before: (dir) => {
      fs.chmodSync(dir, 0o700);
      for (const n of fs.readdirSync(dir)) {
        fs.chownSync(path.join(dir, n), 0, 0);
        fs.chmodSync(path.join(dir, n), 0o600);
      }
    },
  });
  assert.match(planted, /replaced/);
  assert.is(marker, '0', 'the crafted cache was not run: the attack tests below would pass whatever the launcher checks');
});

test('code cache: a cache dir made under umask 000 takes no cache from another user (tsrunc)', () => {
  const c = contexts.tsrunc;
  const { marker, planted, second } = cacheAttack(c, { umask0: true });
  assert.is(marker, '(none)', `root ran the attacker's code cache (attacker: ${planted}); state said ${JSON.stringify(second.stderr.split('\n')[0])}`);
  assert.match(second.stderr, /container does not exist/);
});

test('code cache: a cache dir left writable by others is not used (tsrunc)', () => {
  const c = contexts.tsrunc;
  // as an older launcher left it under umask 000
  const { marker, planted, second } = cacheAttack(c, { tamper: (dir) => fs.chmodSync(dir, 0o777) });
  assert.is(marker, '(none)', `root ran the attacker's code cache (attacker: ${planted})`);
  assert.match(second.stderr, /container does not exist/, 'the bundle itself answered');
});

test('code cache: a cache file writable by others is not used (tsrunc)', () => {
  const c = contexts.tsrunc;
  const { marker, planted, second } = cacheAttack(c, {
    // as an older launcher left them: the dir made under umask 022, the file under 000
    tamper: (dir) => {
      fs.chmodSync(dir, 0o755);
      fs.readdirSync(dir).forEach((n) => fs.chmodSync(path.join(dir, n), 0o666));
    },
  });
  assert.match(planted, /overwritten/, 'the attacker wrote into the 0666 file');
  assert.is(marker, '(none)', `root ran the attacker's code cache (attacker: ${planted})`);
  assert.match(second.stderr, /container does not exist/, 'the bundle itself answered');
});

// ---------------------------------------------------------------- the caller's NODE_* variables

test('NODE_OPTIONS=--require in the caller\'s environment runs no code (tsrunc)', () => {
  const c = contexts.tsrunc;
  const marker = c.tmp('marker');
  const evil = c.tmp('evil.js');
  fs.writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.getuid()));\n`);
  const r = runVia(c, 'exec "$@"', ['state', 'x'], { NODE_OPTIONS: `--require ${evil}` });
  assert.is(readOr(marker, '(none)'), '(none)', 'root ran the NODE_OPTIONS --require script');
  assert.match(r.stderr, /container does not exist/);
});

test('node starts with no NODE_*, UV_* or OPENSSL_* variable of the caller, and with the others (tsrunc)', () => {
  const c = contexts.tsrunc;
  const coverage = c.tmp('coverage');
  fs.mkdirSync(coverage);
  const environ = c.tmp('environ');
  // a hook the runtime process runs reads the environment node started with
  const b = c.makeBundle({
    edit: (cfg) => {
      cfg.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'cat /proc/$PPID/environ > "$0"', environ], env: ['PATH=/usr/bin:/bin'] }] };
    },
  });
  const id = c.id('hst');
  const caller = {
    NODE_PATH: c.tmp('node-path'),
    NODE_REDIRECT_WARNINGS: c.tmp('warnings'),
    NODE_V8_COVERAGE: coverage,
    UV_THREADPOOL_SIZE: '1',
    OPENSSL_CONF: c.tmp('openssl.cnf'),
    TSRUNC_HST_KEPT: 'yes',
    XDG_RUNTIME_DIR: '/run/user/0',
    TERM: 'xterm-hst',
  };
  const r = runVia(c, 'exec "$@"', ['create', '--bundle', b.dir, id], caller);
  assert.is(r.status, 0, r.stderr);
  const env = new Map(fs.readFileSync(environ, 'utf8').split('\0').filter(Boolean).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const leaked = [...env.keys()].filter((k) => /^(NODE_|UV_|OPENSSL_)/.test(k));
  assert.equal(leaked, [], `node started with ${leaked.join(', ')}`);
  for (const k of ['TSRUNC_HST_KEPT', 'XDG_RUNTIME_DIR', 'TERM']) assert.is(env.get(k), caller[k], `${k} is kept`);
  assert.ok((env.get('PATH') || '').endsWith(process.env.PATH), 'PATH is kept (the copy\'s launcher puts its node first)');
  c.rt(['delete', '--force', id]);
  assert.equal(fs.readdirSync(coverage), [], 'node wrote V8 coverage into the caller\'s NODE_V8_COVERAGE');
});

test.run();
