'use strict';
// Command-line parity with runc 1.1.5: flags, help, logs, ids and error texts
// that callers and people see. Every assertion was checked against
// /usr/sbin/runc 1.1.5 on a Debian 12 host; the runtime is a parameter:
//   node node_modules/uvu/bin.js test/e2e parity-cli
//   TSRUNC_TEST_RUNTIME=/usr/sbin/runc node node_modules/uvu/bin.js test/e2e parity-cli
// Where the runtime's own name or version appears in the output, the tests
// use the basename of the runtime under test (runc or tsrunc).
const fs = require('fs');
const { suite } = require('uvu');
const assert = require('uvu/assert');
const h = require('../lib/harness');

const test = suite('parity-cli');
const ctx = h.createContext('parity-cli');
h.install(test, ctx);

const NAME = h.RUNTIME_NAME;

/** A running container (`run -d`) whose process is `sleep 1000`. */
function running(opts = {}) {
  const b = ctx.makeBundle({ args: ['sleep', '1000'], ...opts });
  const id = opts.id || ctx.id('pcli');
  ctx.trackId(id);
  const r = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
  assert.is(r.status, 0, `run -d ${id}: ${r.stderr}`);
  return { b, id };
}

// ---------------------------------------------------------------------------
// container ids

test('ids runc accepts: a leading dot, a comma, "+" and ".." inside', () => {
  // runc's idRegex ^[\w+-\.]+$ ("+-." is the range + , - .) and "/"+id must
  // be clean: "." and ".." are refused, ".x" and "x..y" are not.
  for (const id of [`.pcli-${Date.now()}`, 'pcli-a,b+c..d']) {
    const { b } = running({ id });
    const s = ctx.state(id);
    assert.ok(s && s.status === 'running', `${id}: ${JSON.stringify(s)}`);
    assert.is(s.bundle, b.dir);
    const l = ctx.rt(['list', '-q']);
    assert.ok(l.stdout.split('\n').includes(id), `list -q shows ${id}: ${l.stdout}`);
    const e = ctx.rt(['exec', id, 'true']);
    assert.is(e.status, 0, `exec in ${id}: ${e.stderr}`);
    const d = ctx.rt(['delete', '--force', id]);
    assert.is(d.status, 0, `delete ${id}: ${d.stderr}`);
    assert.is(ctx.state(id), null);
  }
});

test('an id made of digits is an id, and exec\'s arguments are passed as written ("0x10" stays "0x10")', () => {
  // yargs read "123" as the number 123 (tsrunc said "requires exactly 1 argument(s)") and exec's "0x10" as 16
  const id = String(Date.now() % 1e9);
  const { b } = running({ id });
  for (const cmd of [['state', id], ['pause', id], ['resume', id], ['kill', id, '0']]) {
    const r = ctx.rt(cmd);
    assert.is(r.status, 0, `${cmd.join(' ')}: ${r.stderr}`);
  }
  assert.is(ctx.state(id).bundle, b.dir);
  const r = ctx.rt(['exec', id, 'echo', '0x10', '1e3', '007', '-5']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '0x10 1e3 007 -5\n');
  assert.is(ctx.rt(['delete', '--force', id]).status, 0);
});

test('ids runc refuses: ".", "..", a slash, a space', () => {
  const b = ctx.makeBundle();
  for (const id of ['.', '..', 'pcli-a/b', 'pcli a']) {
    const r = ctx.rt(['create', '--bundle', b.dir, id]);
    assert.is(r.status, 1, `${id}: ${r.stderr}`);
    assert.match(h.errorMessage(r.stderr), /invalid (container )?id format/i);
  }
  assert.equal(fs.readdirSync(ctx.root), []);
});

// ---------------------------------------------------------------------------
// exec

test('exec into a paused container: refused without --ignore-paused, frozen until resume with it', async () => {
  const { id } = running();
  assert.is(ctx.rt(['pause', id]).status, 0);
  const r = ctx.rt(['exec', id, 'true']);
  assert.is(r.status, 255, r.stderr);
  assert.is(h.errorMessage(r.stderr), 'exec failed: cannot exec in a paused container (use --ignore-paused to override)');
  const { child, done } = ctx.rtAsync(['exec', '--ignore-paused', id, 'echo', 'thawed']);
  // the process joined the frozen cgroup: nothing comes out until resume
  await new Promise((res) => setTimeout(res, 700));
  assert.is(child.exitCode, null, 'exec --ignore-paused returned while the container was paused');
  assert.is(ctx.rt(['resume', id]).status, 0);
  const e = await done;
  assert.is(e.status, 0, e.stderr);
  assert.is(e.stdout, 'thawed\n');
});

test('exec -p process.json without "user" runs as 0:0, as runc does', () => {
  const { id } = running();
  const p = ctx.tmp('process.json');
  fs.writeFileSync(p, JSON.stringify({ args: ['/bin/sh', '-c', 'grep -E "^(Uid|Gid):" /proc/self/status'], cwd: '/' }));
  const r = ctx.rt(['exec', '-p', p, id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.replace(/\t/g, ' '), 'Uid: 0 0 0 0\nGid: 0 0 0 0\n');
});

test('exec -h and exec --help print exec\'s help (before the container id only)', () => {
  for (const flag of ['-h', '--help']) {
    const r = ctx.rt(['exec', flag]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    assert.ok(r.stdout.startsWith(`NAME:\n   ${NAME} exec - `) && r.stdout.includes('\nUSAGE:\n'), r.stdout);
    assert.match(r.stdout, /\n {3}--ignore-paused {20}allow exec in a paused container\n/);
    assert.is(ctx.rt(['exec', flag, 'pcli-no-such']).stdout, r.stdout);
  }
  // after the id, -h is the command's: runc looks the container up
  const r = ctx.rt(['exec', 'pcli-no-such', 'ls', '-h']);
  assert.is(r.status, 255);
  assert.is(h.errorMessage(r.stderr), 'exec failed: container does not exist');
});

// ---------------------------------------------------------------------------
// help and version

const RUNC = '/usr/sbin/runc';
const COMMANDS = ['checkpoint', 'create', 'delete', 'events', 'exec', 'kill', 'list', 'pause', 'ps', 'restore', 'resume', 'run', 'spec', 'start', 'state', 'update', 'features'];
const run = (args) => ctx.rt(args, { noRoot: true });

/** runc's output for `args`, with its name replaced by the runtime's (undefined without runc). */
function runcSays(args) {
  if (!fs.existsSync(RUNC)) return undefined;
  const r = require('child_process').spawnSync(RUNC, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout.replace(/\brunc\b/g, NAME), stderr: r.stderr };
}

/**
 * What runc's help pages share with tsrunc's: the section headers, the usage
 * lines and each option's flags (the words are tsrunc's own).
 */
function layout(text) {
  const lines = text.split('\n');
  const sections = lines.filter((l) => /^[A-Z][A-Z ]*:$/.test(l));
  const after = (header) => {
    const i = lines.indexOf(header);
    if (i < 0) return [];
    const out = [];
    for (let j = i + 1; j < lines.length && lines[j].startsWith('   ') && lines[j].trim(); j++) out.push(lines[j]);
    return out;
  };
  // every option line after the header (update's list goes on after a note on --resources)
  const start = lines.findIndex((l) => l === 'OPTIONS:' || l === 'GLOBAL OPTIONS:');
  const flags = start < 0 ? [] : lines.slice(start + 1).filter((l) => /^ {3}-/.test(l)).map((l) => l.trim().split(/ {2,}/)[0]);
  return { sections, usage: after('USAGE:'), flags };
}

test('COMMAND --help, -h and `help COMMAND`: runc\'s layout, usage and flags, exit status 0', () => {
  for (const c of COMMANDS) {
    const r = run([c, '--help']);
    assert.is(r.status, 0, `${c} --help: ${r.stderr}`);
    assert.is(r.stderr, '');
    assert.ok(r.stdout.startsWith(`NAME:\n   ${NAME} ${c} - `), `${c} --help:\n${r.stdout}`);
    assert.match(r.stdout, /\n\nUSAGE:\n {3}/);
    for (const args of [[c, '-h'], ['help', c], ['h', c], ['--root', ctx.root, c, '-h']]) {
      const o = run(args);
      assert.is(o.status, 0, args.join(' '));
      assert.is(o.stdout, r.stdout, args.join(' '));
    }
    const ref = runcSays([c, '--help']);
    if (ref) {
      const mine = layout(r.stdout);
      const theirs = layout(ref.stdout);
      assert.equal(mine.usage, theirs.usage, `${c} --help: usage`);
      assert.equal(mine.flags, theirs.flags, `${c} --help: flags`);
      // the description is optional in urfave/cli's layout: the other sections must match
      const kept = (sections) => sections.filter((x) => !['DESCRIPTION:', 'EXAMPLE:', 'EXAMPLE 1:', 'EXAMPLE 2:'].includes(x));
      assert.equal(kept(mine.sections), kept(theirs.sections), `${c} --help: sections`);
    }
  }
  // runc reorders a command's flags before its arguments (exec aside)
  assert.ok(run(['state', 'pcli-x', '-h']).stdout.startsWith(`NAME:\n   ${NAME} state - `));
});

test('--help, -h, help, and no arguments: the main help, runc\'s layout', () => {
  const r = run(['--help']);
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`NAME:\n   ${NAME} - Open Container Initiative runtime\n`), r.stdout);
  for (const args of [['-h'], ['help'], ['h'], [], ['--help', 'pcli-foo']]) assert.is(run(args).stdout, r.stdout, args.join(' '));
  const sections = r.stdout.split('\n').filter((l) => /^[A-Z ]+:$/.test(l));
  assert.equal(sections, ['NAME:', 'USAGE:', 'VERSION:', 'COMMANDS:', 'GLOBAL OPTIONS:']);
  assert.match(r.stdout, /\nCOMMANDS:\n( {3}\S.*\n)+ {3}help, h {2,}Shows a list of commands or help for one command\n/);
  const ref = runcSays(['--help']);
  if (ref) {
    const mine = layout(r.stdout);
    const theirs = layout(ref.stdout);
    assert.equal(mine.sections, theirs.sections);
    assert.equal(mine.usage, theirs.usage);
    assert.equal(mine.flags, theirs.flags, 'the global flags');
    // the same commands in the same order (checkpoint and restore included)
    const commands = (t) => t.slice(t.indexOf('COMMANDS:')).split('\n').slice(1).filter((l) => /^ {3}\S/.test(l)).map((l) => l.trim().split(/ {2,}/)[0]);
    assert.equal(commands(r.stdout), commands(ref.stdout));
  }
});

test('create --help and run --help: --no-pivot says why it is unsafe', () => {
  // runc 1.1.5's says only when to use it (a ramdisk); its man page calls it unsafe
  if (!h.IS_TSRUNC) return;
  for (const c of ['create', 'run']) {
    const line = run([c, '--help']).stdout.split('\n').find((l) => l.startsWith('   --no-pivot '));
    assert.ok(line, `${c} --help lists --no-pivot`);
    assert.match(line, /Unsafe: the host's mounts stay in the container's mount namespace/, line);
    assert.match(line, /ramdisk/, line);
  }
});

test('a flag the command does not have: "Incorrect Usage" and the command\'s help on stdout, the error logged, exit status 1', () => {
  for (const args of [['state', '--pcli-foo', 'pcli-x'], ['kill', '-pcli-foo', 'pcli-x'], ['delete', '--pcli-foo=1', 'pcli-x']]) {
    const r = run(args);
    assert.is(r.status, 1, args.join(' '));
    assert.ok(r.stdout.startsWith(`Incorrect Usage: flag provided but not defined: -pcli-foo\n\nNAME:\n   ${NAME} ${args[0]} - `), `${args.join(' ')}:\n${r.stdout}`);
    assert.is(h.errorMessage(r.stderr), 'flag provided but not defined: -pcli-foo');
  }
});

// runc 1.1.5's checkArgs: [args, what its error says]
const WRONG_COUNTS = [
  [['state'], '"state" requires exactly 1 argument(s)'],
  [['state', 'pcli-a', 'pcli-b'], '"state" requires exactly 1 argument(s)'],
  [['start'], '"start" requires exactly 1 argument(s)'],
  [['start', 'pcli-a', 'pcli-b'], '"start" requires exactly 1 argument(s)'],
  [['kill'], '"kill" requires a minimum of 1 argument(s)'],
  [['kill', '--all', 'pcli-a', 'KILL', 'pcli-c'], '"kill" requires a maximum of 2 argument(s)'],
  [['delete'], '"delete" requires exactly 1 argument(s)'],
  [['delete', 'pcli-a', '--force', 'pcli-b'], '"delete" requires exactly 1 argument(s)'],
  [['pause'], '"pause" requires exactly 1 argument(s)'],
  [['resume', 'pcli-a', 'pcli-b'], '"resume" requires exactly 1 argument(s)'],
  [['ps'], '"ps" requires a minimum of 1 argument(s)'],
  [['events', '--stats', 'pcli-a', 'pcli-b'], '"events" requires exactly 1 argument(s)'],
  [['exec'], '"exec" requires a minimum of 1 argument(s)'],
  [['exec', '-t', '--cwd', '/'], '"exec" requires a minimum of 1 argument(s)'],
  [['create', '--bundle', '.'], '"create" requires exactly 1 argument(s)'],
  [['run', 'pcli-a', 'pcli-b'], '"run" requires exactly 1 argument(s)'],
  [['update', '--resources', '-', 'pcli-a', 'pcli-b'], '"update" requires exactly 1 argument(s)'],
  [['update', 'pcli-a', '--', 'pcli-b'], '"update" requires exactly 1 argument(s)'],
  [['list', 'pcli-a'], '"list" requires exactly 0 argument(s)'],
  [['spec', 'pcli-a'], '"spec" requires exactly 0 argument(s)'],
  [['features', 'pcli-a'], '"features" requires exactly 0 argument(s)'],
];

test('a wrong number of arguments: "Incorrect Usage." and the command\'s help on stdout, "PROGRAM: \\"cmd\\" requires ..." logged, exit status 1', () => {
  for (const [args, says] of WRONG_COUNTS) {
    const r = run(args);
    const what = args.join(' ');
    assert.is(r.status, 1, `${what}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stdout.startsWith(`Incorrect Usage.\n\nNAME:\n   ${NAME} ${args[0]} - `), `${what}:\n${r.stdout}`);
    assert.is(r.stdout.slice('Incorrect Usage.\n\n'.length), run([args[0], '--help']).stdout, `${what}: the command's help`);
    // runc names itself as invoked (os.Args[0]): here, the runtime's path
    assert.is(h.errorMessage(r.stderr), `${h.RUNTIME}: ${says}`, what);
    const ref = h.IS_TSRUNC && runcSays(args);
    if (ref) {
      assert.is(ref.status, 1, `runc ${what}`);
      assert.ok(ref.stdout.startsWith('Incorrect Usage.\n\nNAME:\n'), `runc ${what}: ${ref.stdout}`);
      assert.is(h.errorMessage(ref.stderr), `${RUNC}: ${says}`, `runc ${what}`);
    }
  }
  // with --log FILE --log-format json: the error goes to the log, and to stderr
  const log = ctx.tmp('log');
  const r = run(['--log', log, '--log-format', 'json', 'start']);
  assert.is(r.status, 1);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.map((l) => [l.level, l.msg]), [['error', `${h.RUNTIME}: "start" requires exactly 1 argument(s)`]]);
  // words after "--" are arguments: the count is right, the container is looked for
  for (const args of [['state', '--', 'pcli-nosuch'], ['kill', '--', 'pcli-nosuch', 'KILL']]) {
    const o = run(args);
    assert.is(o.status, 1, args.join(' '));
    assert.is(h.errorMessage(o.stderr), 'container does not exist', args.join(' '));
  }
});

test('exec ID without a command: "exec failed: process args cannot be empty", exit status 255', () => {
  const { id } = running();
  const r = ctx.rt(['exec', id]);
  assert.is(r.status, 255, r.stderr);
  assert.is(h.errorMessage(r.stderr), 'exec failed: process args cannot be empty');
  assert.is(ctx.rt(['delete', '--force', id]).status, 0);
});

test('a flag without its value: "Incorrect Usage: flag needs an argument: -NAME", the command\'s help, exit status 1', () => {
  for (const [args, flag] of [[['exec', '--cwd'], '-cwd'], [['exec', '-p'], '-p'], [['create', '--bundle'], '-bundle']]) {
    const r = run(args);
    assert.is(r.status, 1, args.join(' '));
    assert.ok(r.stdout.startsWith(`Incorrect Usage: flag needs an argument: ${flag}\n\nNAME:\n   ${NAME} ${args[0]} - `), `${args.join(' ')}:\n${r.stdout}`);
    assert.is(h.errorMessage(r.stderr), `flag needs an argument: ${flag}`);
    const ref = h.IS_TSRUNC && runcSays(args);
    if (ref) assert.is(h.errorMessage(ref.stderr), `flag needs an argument: ${flag}`, `runc ${args.join(' ')}`);
  }
});

test('an unknown command or help topic: "No help topic for \'X\'", exit status 3', () => {
  for (const args of [['pcli-foo', '-h'], ['pcli-foo'], ['help', 'pcli-foo'], ['pcli-foo', 'bar', '--help']]) {
    const r = run(args);
    assert.is(r.status, 3, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.is(r.stdout, '');
    assert.is(h.errorMessage(r.stderr), "No help topic for 'pcli-foo'\n");
  }
  const log = ctx.tmp('log');
  const r = run(['--log', log, '--log-format', 'json', 'pcli-foo', '-h']);
  assert.is(r.status, 3);
  assert.is(r.stderr, "No help topic for 'pcli-foo'\n");
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.map((l) => [l.level, l.msg]), [['error', "No help topic for 'pcli-foo'\n"]]);
});

test('--version and -v: "NAME version V", "commit: C", "spec: X.Y.Z", then "key: value" lines, exit status 0, even before a command', () => {
  for (const args of [['--version'], ['-v'], ['-v', 'list'], ['--root', ctx.root, '--version', 'state', 'pcli-x']]) {
    const r = run(args);
    assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stdout.split('\n');
    assert.match(lines[0], new RegExp(`^${NAME} version \\d+\\.\\d+\\.\\d+\\S*$`));
    assert.is(lines.pop(), '');
    for (const l of lines.slice(1)) assert.match(l, /^[a-z]+: \S+$/);
    // runc's version.bats: the commit on line 2, the spec on line 3 (a build from a git checkout has a commit)
    assert.match(lines[1], /^commit: \S+$/, r.stdout);
    assert.match(lines[2], /^spec: \d+\.\d+\.\d+/, r.stdout);
  }
});

// ---------------------------------------------------------------------------
// error messages that name what is wrong

test('a namespace path of another type: refused, the error names the type it is and the one asked for', async () => {
  const holder = ctx.spawnHelper('sleep', ['1000']);
  for (const [file, says] of [['ipc', 'is a namespace of type "ipc", not "network"'], ['../cmdline', 'is not a namespace file (a "network" namespace was asked for)']]) {
    const nsPath = `/proc/${holder.pid}/ns/${file}`;
    const b = ctx.makeBundle({ edit: (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n) => (n.type === 'network' ? { type: 'network', path: nsPath } : n));
    } });
    const id = ctx.id('pcli');
    const r = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
    assert.is(r.status, 1, r.stderr);
    // runc 1.1.5: "nsexec-1[PID]: failed to setns into net namespace: Invalid argument" (fatal), then
    // "runc run failed: unable to start container process: can't get final child's PID from pipe: EOF"
    if (h.IS_TSRUNC) assert.ok(h.errorMessage(r.stderr).includes(`linux.namespaces[1].path: ${nsPath} ${says}`), r.stderr);
    ctx.leftovers({ id, bundle: b });
  }
});

test('an rlimit that cannot be set: the error names it (RLIMIT_NOFILE)', () => {
  // above fs.nr_open: setrlimit fails with EPERM even for root
  const nrOpen = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8'));
  const b = ctx.makeBundle({ edit: (c) => {
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: nrOpen + 1, hard: nrOpen + 1 }];
  } });
  const id = ctx.id('pcli');
  const r = ctx.rt(['run', '-d', '--bundle', b.dir, id]);
  assert.is(r.status, 1, r.stderr);
  const msg = h.errorMessage(r.stderr);
  // runc 1.1.5 says "error setting rlimit type 7: operation not permitted"
  if (h.IS_TSRUNC) assert.match(msg, /RLIMIT_NOFILE/);
  else assert.match(msg, /rlimit/);
  ctx.leftovers({ id, bundle: b });
});

// ---------------------------------------------------------------------------
// configs nested very deeply or very large: a clear error, bounded memory

/** A valid config with annotation "x" replaced by raw JSON text `raw`. */
function configWithAnnotation(raw) {
  const c = h.defaultConfig();
  c.annotations = { x: 'PLACEHOLDER' };
  return JSON.stringify(c).replace('"PLACEHOLDER"', raw);
}

function peakKb(stderr) {
  // time(1) is not installed everywhere: measure with /usr/bin/time when present
  const m = /maxrss=(\d+)/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

function timed(args) {
  if (!fs.existsSync('/usr/bin/time')) return ctx.rt(args);
  return ctx.rt(args, { sh: 'exec /usr/bin/time -f maxrss=%M "$@"' });
}

test('config.json nested 100k deep in an annotation: refused with the file and the limit, bounded memory', () => {
  const depth = 100000;
  const b = ctx.makeBundle({ rawConfig: configWithAnnotation('['.repeat(depth) + ']'.repeat(depth)) });
  const id = ctx.id('pcli');
  const r = timed(['create', '--bundle', b.dir, id]);
  assert.is(r.status, 1, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('time='));
  assert.is(lines.length, 1, r.stderr);
  const msg = h.parseTextLog(lines[0])[0].msg;
  // runc 1.1.5: "runc create failed: invalid character '[' exceeded max depth" (Go's limit, 10000)
  if (h.IS_TSRUNC) {
    assert.ok(msg.includes(b.configPath), msg);
    assert.match(msg, /nested deeper than 10000 /);
  } else {
    assert.match(msg, /max depth/);
  }
  const kb = peakKb(r.stderr);
  if (kb !== undefined) assert.ok(kb < 150 * 1024, `peak RSS ${kb} KB`);
  ctx.leftovers({ id, bundle: b });
});

test('deep nesting is refused wherever it is, and strings holding brackets are not nesting', () => {
  const deep = '{"a":'.repeat(20000) + '1' + '}'.repeat(20000);
  for (const text of [configWithAnnotation(deep), `[${configWithAnnotation('"x"')}]`.replace(/^\[/, '['.repeat(10001)) + ']'.repeat(10000)]) {
    const b = ctx.makeBundle({ rawConfig: text });
    const r = ctx.rt(['create', '--bundle', b.dir, ctx.id('pcli')]);
    assert.is(r.status, 1, r.stderr);
    if (h.IS_TSRUNC) assert.match(h.errorMessage(r.stderr), /nested deeper than 10000 /);
  }
  // brackets inside strings (and escaped quotes) do not count
  const { id } = running({ annotations: { x: '['.repeat(50000) + '\\"{'.repeat(20000) } });
  assert.ok(ctx.state(id), 'the container with brackets in a string runs');
});

// runc has no size limit (it reads the file whole, then runs the container): tsrunc's own bound
(h.IS_TSRUNC ? test : test.skip)('a huge config.json (64 MB annotation): refused with the file and the limit, bounded memory', () => {
  const c = h.defaultConfig();
  c.annotations = { x: 'PLACEHOLDER' };
  const [head, tail] = JSON.stringify(c).split('PLACEHOLDER');
  const b = ctx.makeBundle({ rawConfig: head });
  const chunk = 'a'.repeat(1 << 20);
  for (let i = 0; i < 64; i++) fs.appendFileSync(b.configPath, chunk);
  fs.appendFileSync(b.configPath, tail);
  const id = ctx.id('pcli');
  const r = timed(['create', '--bundle', b.dir, id]);
  fs.rmSync(b.configPath);
  assert.is(r.status, 1, r.stderr);
  const msg = h.parseTextLog(r.stderr.split('\n').filter((l) => l.startsWith('time=')).join('\n'))[0].msg;
  assert.is(msg, `${b.configPath} is larger than 16777216 bytes, the limit for a JSON file`);
  const kb = peakKb(r.stderr);
  if (kb !== undefined) assert.ok(kb < 150 * 1024, `peak RSS ${kb} KB`);
  ctx.leftovers({ id, bundle: b });
});

test('exec -p: the same bounds for process.json', () => {
  const { id } = running();
  const p = ctx.tmp('process.json');
  fs.writeFileSync(p, `{"args":["true"],"cwd":"/","env":${'['.repeat(100000)}${']'.repeat(100000)}}`);
  const r = ctx.rt(['exec', '-p', p, id]);
  assert.is(r.status, 255, r.stderr);
  if (h.IS_TSRUNC) assert.match(h.errorMessage(r.stderr), new RegExp(`^exec failed: ${p} is nested deeper than 10000 `));
});

(h.IS_TSRUNC ? test : test.skip)('update --resources: the same bounds, for a file and for standard input; the limits stay as they were', () => {
  const { id } = running({ cgroupsPath: `/pcli-upd-${h.rand()}` });
  const big = `{"pids":{"limit":50},"x":"${'a'.repeat(17 * 1024 * 1024)}"}`;
  const file = ctx.tmp('resources.json');
  fs.writeFileSync(file, big);
  let r = timed(['update', '--resources', file, id]);
  assert.is(r.status, 1, r.stderr);
  const msg = h.parseTextLog(r.stderr.split('\n').filter((l) => l.startsWith('time=')).join('\n'))[0].msg;
  assert.is(msg, `resources ${file} is larger than 16777216 bytes, the limit for a JSON file`);
  const kb = peakKb(r.stderr);
  if (kb !== undefined) assert.ok(kb < 150 * 1024, `peak RSS ${kb} KB`);
  r = ctx.rt(['update', '--resources', '-', id], { input: `{"pids":${'['.repeat(20000)}${']'.repeat(20000)}}` });
  assert.is(r.status, 1, r.stderr);
  assert.match(h.errorMessage(r.stderr), 'resources from standard input is nested deeper than 10000 arrays and objects');
  r = ctx.rt(['update', '--resources', '-', id], { input: '{"pids":{"limit":42}}' });
  assert.is(r.status, 0, `a normal one still works: ${r.stderr}`);
  fs.rmSync(file);
});

// ---------------------------------------------------------------------------
// --debug and --log

/** Each of `patterns` matches one of `msgs`, each after the one before. */
function assertInOrder(msgs, patterns) {
  let at = -1;
  for (const re of patterns) {
    const i = msgs.findIndex((m, j) => j > at && re.test(m));
    assert.ok(i > at, `${re} after line ${at} of:\n${msgs.join('\n')}`);
    at = i;
  }
}

const jsonLines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

test('--debug --log F --log-format json run: the setup\'s stages at debug level, then "process exited" with pid and status', () => {
  const b = ctx.makeBundle({ args: ['true'] });
  const log = ctx.tmp('log');
  const id = ctx.id('pcli');
  const r = ctx.rt(['--debug', '--log', log, '--log-format', 'json', 'run', '--bundle', b.dir, id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '', 'everything goes to --log');
  const lines = jsonLines(log);
  assert.ok(lines.every((l) => l.level === 'debug' && typeof l.msg === 'string' && h.RFC3339_SECONDS.test(l.time)), JSON.stringify(lines));
  const msgs = lines.map((l) => l.msg);
  // runc: "nsexec-0[PID]: spawn stage-1" ... "nsexec-2[1]: ~> nsexec stage-2"; tsrunc adds the pid: "spawn stage-1 (PID)"
  assert.ok(msgs.some((m) => /^nsexec-0\[\d+\]: spawn stage-1/.test(m)), msgs.join('\n'));
  assert.ok(msgs.includes('nsexec-2[1]: ~> nsexec stage-2'), msgs.join('\n'));
  // the lines runc's debug.bats greps, in runc's order
  assertInOrder(msgs, [/^nsexec\[\d+\]: => nsexec container setup$/, /^nsexec-2\[1\]: <= nsexec container setup$/, /^child process in init\(\)$/, /^init: closing the pipe to signal completion$/]);
  const last = lines[lines.length - 1];
  assert.is(last.msg, 'process exited');
  assert.is(last.status, 0);
  assert.ok(Number.isInteger(last.pid) && last.pid > 1, JSON.stringify(last));
});

test('--debug without --log: text lines on stderr, "process exited" with pid=N status=N; none without --debug', () => {
  const b = ctx.makeBundle({ args: ['sh', '-c', 'exit 3'] });
  const r = ctx.rt(['--debug', 'run', '--bundle', b.dir, ctx.id('pcli')]);
  assert.is(r.status, 3, r.stderr);
  const entries = h.parseTextLog(r.stderr);
  assert.ok(entries.length >= 3 && entries.every((e) => e.level === 'debug'), r.stderr);
  assert.match(entries[entries.length - 1].raw, /level=debug msg="process exited" .*pid=\d+ status=3$/);
  const quiet = ctx.rt(['run', '--bundle', b.dir, ctx.id('pcli')]);
  assert.is(quiet.status, 3);
  assert.is(quiet.stderr, '');
});

test('--debug exec (text on stderr, or JSON to --log): nsexec\'s stages joining the container, then "setns_init: about to exec"', () => {
  const { id } = running();
  const r = ctx.rt(['--debug', 'exec', id, 'true']);
  assert.is(r.status, 0, r.stderr);
  const entries = h.parseTextLog(r.stderr);
  assert.ok(entries.every((e) => e.level === 'debug'), r.stderr);
  const text = entries.map((e) => e.msg);
  // runc: "nsexec-1[PID]: setns(0x20000) into mnt namespace (with path /proc/PID/ns/mnt)"
  assert.ok(text.some((m) => /^nsexec-1\[\d+\]: setns\(0x20000\) into mnt namespace \(with path \/proc\/\d+\/ns\/mnt\)$/.test(m)), text.join('\n'));
  assertInOrder(text, [/^nsexec\[\d+\]: => nsexec container setup$/, /^nsexec-1\[\d+\]: ~> nsexec stage-1$/, /^nsexec-2\[\d+\]: <= nsexec container setup$/, /^child process in init\(\)$/, /^setns_init: about to exec$/, /^process exited$/]);
  const log = ctx.tmp('log');
  const j = ctx.rt(['--debug', '--log', log, '--log-format', 'json', 'exec', id, 'true']);
  assert.is(j.status, 0, j.stderr);
  assert.is(j.stderr, '', 'everything goes to --log');
  const msgs = jsonLines(log).map((l) => l.msg);
  assertInOrder(msgs, [/nsexec container setup/, /^child process in init\(\)$/, /^setns_init: about to exec$/]);
});

test('--debug create, start and delete: the stages at create only (runc logs nothing for start and delete)', () => {
  const b = ctx.makeBundle({ args: ['true'] });
  const id = ctx.id('pcli');
  const logs = {};
  for (const cmd of ['create', 'start', 'delete']) {
    logs[cmd] = ctx.tmp(`${cmd}.log`);
    if (cmd === 'delete') ctx.waitStatusSync(id, 'stopped');
    const r = ctx.rt(['--debug', '--log', logs[cmd], '--log-format', 'json', cmd, ...(cmd === 'create' ? ['--bundle', b.dir] : []), id]);
    assert.is(r.status, 0, `${cmd}: ${r.stderr}`);
  }
  const created = jsonLines(logs.create);
  assert.ok(created.length >= 3 && created.every((l) => l.level === 'debug'), JSON.stringify(created));
  assert.ok(created.some((l) => /stage-1/.test(l.msg)));
  assert.equal(jsonLines(logs.start), []);
  assert.equal(jsonLines(logs.delete), []);
});

test('--log FILE is created by every command, even one that logs nothing', () => {
  for (const [args, status] of [[['list'], 0], [['state', 'pcli-none'], 1], [['--log-format', 'json', 'list', '-q'], 0]]) {
    const log = ctx.tmp('log');
    const r = ctx.rt(['--log', log, ...args]);
    assert.is(r.status, status, r.stderr);
    assert.ok(fs.existsSync(log), `${args.join(' ')}: ${log} was not created`);
    assert.is(fs.statSync(log).mode & 0o777, 0o644);
    if (status === 0) assert.is(fs.readFileSync(log, 'utf8'), '');
  }
});

test.run();
