'use strict';
// src/cli/fast-args.ts reads the common command lines without yargs. For each
// line here it must either give the handler what yargs gives it (the same
// parser main() builds, from src/cli/main.ts), or leave the line to yargs:
// never accept what yargs refuses, never read a line differently.
const { test } = require('uvu');
const assert = require('uvu/assert');
const { fastArgs, fastExecFlags } = require('../../dist/cli/fast-args.js');
const { parseExecArgsWithYargs } = require('../../dist/cli/exec.js');
const { yargsParser } = require('../../dist/cli/main.js');
const { subcommand, subcommandIndex } = require('../../dist/cli/argv.js');
const { arityProblem } = require('../../dist/cli/arity.js');

const KEYS = ['_', 'id', 'signal', 'force', 'all', 'format', 'quiet', 'stats', 'interval', 'root', 'log', 'log-format', 'debug', 'systemd-cgroup',
  'bundle', 'console-socket', 'pid-file', 'no-pivot', 'no-new-keyring', 'preserve-fds', 'detach', 'keep', 'no-subreaper'];
const pick = (argv) => Object.fromEntries(KEYS.filter((k) => argv[k] !== undefined).map((k) => [k, argv[k]]));

/** What the handler gets from yargs, or { refused } with yargs' message. */
async function viaYargs(args) {
  let got;
  try {
    await yargsParser(args, subcommand(args), (argv) => {
      got = argv;
    }, (msg, err) => {
      throw new Error(msg || (err && err.message) || 'refused');
    }).parseAsync();
  } catch (e) {
    return { refused: e.message };
  }
  return got ? pick(got) : { refused: 'no handler ran' };
}

const READ = [
  ['state', 'c1'],
  ['state', '123'],
  ['state', '0x10'],
  ['--root', '/r', 'state', 'c1'],
  ['--root=/r', '--log', '/l', '--log-format', 'json', 'start', 'x.y-z'],
  ['--log-format=json', '--debug', '--systemd-cgroup', 'pause', 'c'],
  ['--debug', 'resume', 'c'],
  ['delete', 'c'],
  ['delete', '--force', 'c'],
  ['delete', '-f', 'c'],
  ['kill', 'c'],
  ['kill', 'c', 'KILL'],
  ['kill', '--all', 'c', '9'],
  ['kill', '-a', 'c', 'SIGRTMIN+1'],
  ['list'],
  ['list', '-q'],
  ['list', '--quiet', '--format', 'json'],
  ['list', '-f', 'json'],
  ['list', '--format=table'],
  ['events', '--stats', 'c'],
  ['events', '--interval', '2s', 'c'],
  ['events', '--interval=250ms', '--stats', 'c'],
  ['ps', 'c'],
  ['ps', '--format', 'json', 'c'],
  ['ps', '-f', 'table', 'c'],
  ['create', 'c'],
  ['create', '--bundle', '/b', '--pid-file', '/p', 'c'],
  ['--root', '/r', '--log', '/l', '--log-format', 'json', '--systemd-cgroup', 'create', '--bundle', '/b', '--pid-file', '/p', '--console-socket', '/s', '--no-pivot', '--no-new-keyring', 'c'],
  ['create', '-b', 'bundle', '--preserve-fds', '3', 'c'],
  ['create', '--preserve-fds=0', 'c'],
  ['run', '-b', '/b', 'c'],
  ['run', '-d', '--keep', '--no-subreaper', '--pid-file', 'p', '-b', '/b', 'c'],
  ['run', '--detach', '--bundle=/b', '123'],
];

const LEFT_TO_YARGS = [
  // yargs reads these (differently, or not at all): main() hands them over
  ['state', 'c', '--debug'],
  ['delete', 'c', '--force'],
  ['--root', '/a', '--root', '/b', 'state', 'c'],
  ['--debug', 'true', 'state', 'c'],
  ['--debug=false', 'state', 'c'],
  ['state', '--', 'c'],
  ['list', '-qf', 'json'],
  ['--root', '', 'state', 'c'],
  ['--rootless', 'true', 'state', 'c'],
  ['state'],
  ['events', '--interval', 'c'],
  ['ps', 'c', '-o', 'pid'],
  ['ps', 'c', 'aux'],
  ['create', '--preserve-fds', '1e1', 'c'],
  ['create', '--preserve-fds', '0x3', 'c'],
  ['create', '--bundle', '-', 'c'],
  ['run', '--tty', 'c'],
  ['create', '-d', 'c'],
];

// yargs refuses these, with its words (the oracle above says so too)
const REFUSED = [
  ['state', 'a', 'b'],
  ['kill', 'c', '9', 'x'],
  ['delete', '--nope', 'c'],
  ['--log-format', 'xml', 'state', 'c'],
  ['--root'],
  ['list', 'x'],
];

// exec: its words (after "exec") are read a second time by exec.ts; the fast reader must give
// what that yargs reading gives, or leave them to it
const EXEC_KEYS = ['id', 'command', 'process', 'detach', 'tty', 'no-new-privs', 'ignore-paused', 'pid-file', 'console-socket', 'cwd', 'user',
  'preserve-fds', 'apparmor', 'process-label', 'env', 'cap'];
const pickExec = (argv) => Object.fromEntries(EXEC_KEYS.filter((k) => argv[k] !== undefined).map((k) => [k, argv[k]]));
const EXEC_READ = [
  ['c', 'true'],
  ['123', 'echo', '0x10', '1e3'],
  ['c', 'sh', '-c', 'echo --cap x; exit 3'],
  ['--process', '/p.json', '--detach', '--pid-file', '/pid', 'c'],
  ['--process=/p.json', '-d', '--pid-file=/pid', '--console-socket', '/s', '--preserve-fds', '2', 'c'],
  ['-p', '/p.json', 'c'],
  ['-t', '--cwd', '/tmp', '-u', '1000:1000', 'c', 'id'],
  ['-e', 'A=1', '--env', 'B=2', '--env=C=3', '--cap', 'CAP_KILL', '-c', 'CAP_CHOWN', 'c', 'env'],
  ['--no-new-privs', '--ignore-paused', '--apparmor', 'unconfined', '--process-label', 'l', 'c', 'ls'],
];
const EXEC_LEFT = [
  ['c', '--', 'x'],
  ['c'],
  [],
  ['--tty=false', 'c', 'sh'],
  ['-dt', 'c', 'sh'],
  ['-g', '10', 'c', 'id'],
  ['--cgroup', 'cpu:x', 'c', 'id'],
  ['--preserve-fds', '0x3', 'c', 'true'],
  ['--cwd', '-x', 'c', 'true'],
  ['--detach', 'true', 'c', 'true'],
  ['--nope', 'c', 'true'],
  ['--pid-file', '/a', '--pid-file', '/b', 'c', 'true'],
];

test('exec: the words it reads give what exec.ts\'s yargs reading gives', () => {
  for (const words of EXEC_READ) {
    const fast = fastExecFlags(words);
    assert.ok(fast, `exec ${words.join(' ')}: not read`);
    const slow = parseExecArgsWithYargs(words);
    assert.equal(pickExec(fast), pickExec(slow), `exec ${words.join(' ')}`);
  }
  for (const words of EXEC_LEFT) assert.is(fastExecFlags(words), undefined, `exec ${words.join(' ')}`);
});

test('exec: the whole line is handed on as yargs hands it (global flags, the words in argv._)', async () => {
  for (const args of [['exec', 'c', 'true'], ['--root', '/r', '--log-format', 'json', 'exec', '--detach', '-p', '/p', 'c'], ['exec', 'exec', 'ls']]) {
    const fast = fastArgs(args);
    assert.ok(fast, args.join(' '));
    const slow = await viaYargs(args);
    assert.equal({ ...pick(fast.argv), _: fast.argv._.map(String) }, { ...slow, _: slow._.map(String) }, args.join(' '));
  }
  assert.is(fastArgs(['exec', '-g', '1', 'c', 'id']), undefined);
});

test('lines it reads: exactly the argv yargs gives the handler', async () => {
  for (const args of READ) {
    const fast = fastArgs(args);
    assert.ok(fast, `${args.join(' ')}: not read`);
    assert.equal(pick(fast.argv), await viaYargs(args), args.join(' '));
    // main() reads these before its argument-count check: they must pass it
    assert.is(arityProblem(fast.command, args.slice(subcommandIndex(args) + 1), 'tsrunc'), undefined, args.join(' '));
  }
});

test('lines it leaves to yargs, and every one yargs refuses', async () => {
  for (const args of [...LEFT_TO_YARGS, ...REFUSED]) assert.is(fastArgs(args), undefined, args.join(' '));
  for (const args of REFUSED) assert.ok((await viaYargs(args)).refused, `yargs refuses ${args.join(' ')}`);
});

test('ids and signals stay words through yargs too ("123" is an id, not a number)', async () => {
  assert.equal(await viaYargs(['state', '123']), { _: ['state'], id: '123', 'log-format': 'text' });
  assert.equal((await viaYargs(['kill', '007', '9'])).signal, '9');
});

test.run();
