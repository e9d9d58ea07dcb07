'use strict';
// Logger: runc's (logrus) line formats.
//   json: {"level":"error","msg":"...","time":"2006-01-02T15:04:05Z"}
//   text: time="2006-01-02T15:04:05Z" level=error msg="..."  (plain words unquoted)
const { test } = require('uvu');
const assert = require('uvu/assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { Logger } = require('../../dist/cli/log.js');

const LOG_JS = path.resolve(__dirname, '../../dist/cli/log.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-log-'));
let n = 0;
const logFile = () => path.join(tmp, `log${++n}`);
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/;
const TEXT = /^time="([^"]+)" level=(debug|info|warning|error) msg=(.*)$/;

function near(time) {
  const t = Date.parse(time);
  assert.ok(Math.abs(Date.now() - t) < 5000, `${time} is not now`);
}

/** The msg= value of a text line written for `msg`. */
function textMsg(msg) {
  const f = logFile();
  new Logger(f, 'text', false).error(msg);
  const [line, ...rest] = fs.readFileSync(f, 'utf8').split('\n');
  assert.equal(rest, ['']);
  const m = TEXT.exec(line);
  assert.ok(m, line);
  return m[3];
}

test('json: one object per line with exactly level, msg, time (logrus JSONFormatter order)', () => {
  const f = logFile();
  const log = new Logger(f, 'json', false);
  log.error('container does not exist');
  log.warn('careful: "quotes" and\nnewline');
  const [a, b] = lines(f);
  const ea = JSON.parse(a);
  assert.equal(Object.keys(ea), ['level', 'msg', 'time']);
  assert.is(ea.level, 'error');
  assert.is(ea.msg, 'container does not exist');
  assert.match(ea.time, RFC3339);
  near(ea.time);
  assert.ok(a.startsWith('{"level":"error","msg":"container does not exist","time":"'), a);
  const eb = JSON.parse(b);
  assert.is(eb.level, 'warning');
  assert.is(eb.msg, 'careful: "quotes" and\nnewline');
  assert.is(lines(f).length, 2, 'a newline in msg does not split the line');
});

test('text: logrus layout time="..." level=... msg=...', () => {
  const f = logFile();
  new Logger(f, 'text', false).error('container does not exist');
  const text = fs.readFileSync(f, 'utf8');
  assert.ok(text.endsWith('\n'));
  const m = TEXT.exec(text.trimEnd());
  assert.ok(m, text);
  assert.match(m[1], RFC3339);
  near(m[1]);
  assert.is(m[2], 'error');
  assert.is(m[3], '"container does not exist"');
});

test('text: plain words are not quoted', () => {
  for (const w of ['exists', 'container-not-found', 'a_b', 'v1.2.3', '/run/tsrunc', 'user@host', 'x^y', 'a+b', 'ABC123']) {
    assert.is(textMsg(w), w, w);
  }
});

test('text: anything else is quoted and escaped', () => {
  assert.is(textMsg('two words'), '"two words"');
  assert.is(textMsg('a=b'), '"a=b"');
  assert.is(textMsg('x:y'), '"x:y"');
  assert.is(textMsg('say "hi"'), '"say \\"hi\\""');
  assert.is(textMsg('a\nb'), '"a\\nb"');
  assert.is(textMsg('tab\there'), '"tab\\there"');
  assert.is(textMsg('back\\slash'), '"back\\\\slash"');
  assert.is(textMsg('é'), '"é"');
});

// BUG: src/cli/log.ts Logger.write always writes msg=, and textValue quotes
// the empty string (msg=""). logrus' TextFormatter leaves the msg key out when
// the message is empty (`if entry.Message != "" { fixedKeys = append(..., msg) }`),
// so runc writes `time="..." level=error` and nothing more. (JSON keeps "msg":"".)
test('text: an empty message leaves msg out, as logrus does', () => {
  const f = logFile();
  new Logger(f, 'text', false).error('');
  assert.match(fs.readFileSync(f, 'utf8'), /^time="[^"]+" level=error\n$/);
  const j = logFile();
  new Logger(j, 'json', false).error('');
  assert.equal(Object.keys(JSON.parse(lines(j)[0])), ['level', 'msg', 'time']);
});

test('levels: warn is "warning"; debug only when enabled', () => {
  const f = logFile();
  const quiet = new Logger(f, 'text', false);
  quiet.debug('hidden');
  quiet.warn('shown');
  const loud = new Logger(f, 'json', true);
  loud.debug('visible');
  const ls = lines(f);
  assert.is(ls.length, 2, ls.join('\n'));
  assert.match(ls[0], /^time="[^"]+" level=warning msg=shown$/);
  assert.equal(JSON.parse(ls[1]).level, 'debug');
  assert.equal(JSON.parse(ls[1]).msg, 'visible');
});

test('appends to an existing log file', () => {
  const f = logFile();
  fs.writeFileSync(f, '{"level":"info","msg":"earlier","time":"2020-01-01T00:00:00Z"}\n');
  new Logger(f, 'json', false).error('later');
  const ls = lines(f);
  assert.is(ls.length, 2);
  assert.is(JSON.parse(ls[0]).msg, 'earlier');
  assert.is(JSON.parse(ls[1]).msg, 'later');
});

test('toStderr: true only without a log file', () => {
  assert.ok(new Logger(undefined, 'text', false).toStderr);
  assert.not.ok(new Logger('/x', 'text', false).toStderr);
});

/** Runs `body` (JS using Logger and reportFatal) in a child; returns its stderr. */
function child(body) {
  const js = `const { Logger, reportFatal } = require(${JSON.stringify(LOG_JS)});\n${body}`;
  const r = spawnSync(process.execPath, ['-e', js], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stderr;
}

test('without --log, lines go to stderr', () => {
  const err = child(`new Logger(undefined, 'text', false).error('boom here');`);
  assert.match(err, /^time="[^"]+" level=error msg="boom here"\n$/);
  const errJson = child(`new Logger(undefined, 'json', false).error('boom');`);
  assert.is(JSON.parse(errJson).msg, 'boom');
});

test('reportFatal: to the log file and the bare message to stderr (as runc does)', () => {
  const f = logFile();
  const err = child(`reportFatal(new Logger(${JSON.stringify(f)}, 'json', false), 'container does not exist');`);
  assert.is(err, 'container does not exist\n');
  const ls = lines(f);
  assert.is(ls.length, 1);
  assert.equal(JSON.parse(ls[0]).msg, 'container does not exist');
  assert.is(JSON.parse(ls[0]).level, 'error');
});

test('reportFatal without a log file: one line on stderr, not two', () => {
  const err = child(`reportFatal(new Logger(undefined, 'text', false), 'container does not exist');`);
  assert.match(err, /^time="[^"]+" level=error msg="container does not exist"\n$/);
});

test('an unwritable log file falls back to stderr', () => {
  const err = child(`new Logger('/nonexistent-dir/x/log', 'json', false).error('lost?');`);
  assert.is(JSON.parse(err).msg, 'lost?');
});

test('same layout as runc itself (when /usr/sbin/runc is here)', () => {
  if (!fs.existsSync('/usr/sbin/runc')) return;
  const root = path.join(tmp, 'runc-root');
  for (const format of ['json', 'text']) {
    const theirs = logFile();
    spawnSync('/usr/sbin/runc', ['--root', root, '--log', theirs, '--log-format', format, 'state', 'nope'], { encoding: 'utf8' });
    const ours = logFile();
    new Logger(ours, format, false).error('container does not exist');
    const norm = (s) => s.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)/g, 'TIME');
    const t = lines(theirs);
    assert.is(t.length, 1, t.join('\n'));
    assert.is(norm(lines(ours)[0]), norm(t[0]), format);
  }
});

test.after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test.run();
