'use strict';
// WebAssembly modules for the tests, written here in the text format and
// compiled with wabt's wat2wasm (Debian's `wabt`) once per test process.
// Each is a WASI preview1 command (_start, memory "memory") built from the
// helpers in PRELUDE: write to an fd, print a NUL-terminated string and a
// newline, argv[i], decimal argv parsing.
//
// Memory map of every module: 0..63 scratch (iovecs, results), 64 "\n",
// 1024 argv pointers, 2048 environ pointers, 4096 argv strings, 20480
// environ strings, 40000.. the module's own data, 65536.. a 64 KiB buffer.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');

const WASI = 'wasi_snapshot_preview1';

const PRELUDE = `
  (import "${WASI}" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "${WASI}" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "${WASI}" "fd_close" (func $fd_close (param i32) (result i32)))
  (import "${WASI}" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "${WASI}" "path_readlink" (func $path_readlink (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "${WASI}" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "${WASI}" "proc_exit" (func $proc_exit (param i32)))
  (import "${WASI}" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "${WASI}" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "${WASI}" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "${WASI}" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 64) "\\n")
  (func $write (param $fd i32) (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $n))
  (func $puts (param $fd i32) (param $p i32)
    (call $write (local.get $fd) (local.get $p) (call $strlen (local.get $p)))
    (call $write (local.get $fd) (i32.const 64) (i32.const 1)))
  (func $argc (result i32)
    (drop (call $args_sizes_get (i32.const 16) (i32.const 20)))
    (drop (call $args_get (i32.const 1024) (i32.const 4096)))
    (i32.load (i32.const 16)))
  (func $arg (param $i i32) (result i32)
    (i32.load (i32.add (i32.const 1024) (i32.shl (local.get $i) (i32.const 2)))))
  (func $atoi (param $p i32) (result i32) (local $n i32) (local $d i32)
    (block $done (loop $next
      (local.set $d (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
      (br_if $done (i32.gt_u (local.get $d) (i32.const 9)))
      (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $d)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next)))
    (local.get $n))
  (func $unslash (param $p i32) (result i32)
    (block $done (loop $next
      (br_if $done (i32.ne (i32.load8_u (local.get $p)) (i32.const 47)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next)))
    (local.get $p))
  (func $sleep (param $ns i64)
    ;; one relative monotonic clock subscription at 100, its event at 200
    (i64.store (i32.const 100) (i64.const 0))
    (i32.store8 (i32.const 108) (i32.const 0))
    (i32.store (i32.const 116) (i32.const 1))
    (i64.store (i32.const 124) (local.get $ns))
    (i64.store (i32.const 132) (i64.const 0))
    (i32.store16 (i32.const 140) (i32.const 0))
    (drop (call $poll_oneoff (i32.const 100) (i32.const 200) (i32.const 1) (i32.const 300))))
`;

/** The modules, by name: `_start` and data of each. */
const MODULES = {
  // returns at once: exit 0 (a /bin/true)
  true: `
  (func (export "_start"))`,
  // "hello from wasm" on stdout, "to stderr" on stderr, exit 3
  hello: `
  (data (i32.const 40000) "hello from wasm\\n")
  (data (i32.const 40100) "to stderr\\n")
  (func (export "_start")
    (call $write (i32.const 1) (i32.const 40000) (i32.const 16))
    (call $write (i32.const 2) (i32.const 40100) (i32.const 10))
    (call $proc_exit (i32.const 3)))`,
  // each arg on a line, then "--", then each environment variable on a line
  echo: `
  (data (i32.const 40000) "--")
  (func (export "_start") (local $i i32) (local $n i32)
    (local.set $n (call $argc))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (call $puts (i32.const 1) (call $arg (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $puts (i32.const 1) (i32.const 40000))
    (drop (call $environ_sizes_get (i32.const 24) (i32.const 28)))
    (drop (call $environ_get (i32.const 2048) (i32.const 20480)))
    (local.set $n (i32.load (i32.const 24)))
    (local.set $i (i32.const 0))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (call $puts (i32.const 1) (i32.load (i32.add (i32.const 2048) (i32.shl (local.get $i) (i32.const 2)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))`,
  // exit with the code argv[1] gives
  exit: `
  (func (export "_start")
    (drop (call $argc))
    (call $proc_exit (call $atoi (call $arg (i32.const 1)))))`,
  // argv[1]'s file (a path under the preopen "/", leading slashes dropped) on stdout,
  // following symlinks (WASI's lookupflags), or not with any argv[2];
  // exit 100 + errno when it cannot be opened, 50 + errno when it cannot be read
  cat: `
  (func (export "_start") (local $p i32) (local $e i32) (local $fd i32) (local $follow i32)
    (local.set $follow (i32.lt_u (call $argc) (i32.const 3)))
    (local.set $p (call $unslash (call $arg (i32.const 1))))
    ;; rights: fd_read | fd_seek
    (local.set $e (call $path_open (i32.const 3) (local.get $follow) (local.get $p) (call $strlen (local.get $p))
      (i32.const 0) (i64.const 6) (i64.const 0) (i32.const 0) (i32.const 32)))
    (if (local.get $e) (then (call $proc_exit (i32.add (i32.const 100) (local.get $e)))))
    (local.set $fd (i32.load (i32.const 32)))
    (block $done (loop $next
      (i32.store (i32.const 40) (i32.const 65536))
      (i32.store (i32.const 44) (i32.const 65536))
      (local.set $e (call $fd_read (local.get $fd) (i32.const 40) (i32.const 1) (i32.const 48)))
      (if (local.get $e) (then (call $proc_exit (i32.add (i32.const 50) (local.get $e)))))
      (br_if $done (i32.eqz (i32.load (i32.const 48))))
      (call $write (i32.const 1) (i32.const 65536) (i32.load (i32.const 48)))
      (br $next)))
    (call $proc_exit (i32.const 0)))`,
  // the text of the symlink argv[1] (under "/") on stdout; exit 100 + errno on failure
  readlink: `
  (func (export "_start") (local $p i32) (local $e i32)
    (drop (call $argc))
    (local.set $p (call $unslash (call $arg (i32.const 1))))
    (local.set $e (call $path_readlink (i32.const 3) (local.get $p) (call $strlen (local.get $p))
      (i32.const 65536) (i32.const 4096) (i32.const 48)))
    (if (local.get $e) (then (call $proc_exit (i32.add (i32.const 100) (local.get $e)))))
    (call $write (i32.const 1) (i32.const 65536) (i32.load (i32.const 48)))
    (call $proc_exit (i32.const 0)))`,
  // "ready" on stdout, then sleeps (poll_oneoff) for ever, a second at a time
  sleep: `
  (data (i32.const 40000) "ready")
  (func (export "_start")
    (call $puts (i32.const 1) (i32.const 40000))
    (loop $next
      (call $sleep (i64.const 1000000000))
      (br $next)))`,
  // "tick" on stdout every 100 ms, for ever (poll_oneoff, fd_write)
  tick: `
  (data (i32.const 40000) "tick")
  (func (export "_start")
    (loop $next
      (call $sleep (i64.const 100000000))
      (call $puts (i32.const 1) (i32.const 40000))
      (br $next)))`,
  // grows its memory by argv[1] pages of 64 KiB, one at a time, writing every
  // 4 KiB of each; "grown" and exit 0, or "grow failed" and exit 2
  grow: `
  (data (i32.const 40000) "grown")
  (data (i32.const 40100) "grow failed")
  (func (export "_start") (local $n i32) (local $i i32) (local $base i32) (local $off i32)
    (drop (call $argc))
    (local.set $n (call $atoi (call $arg (i32.const 1))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $base (memory.grow (i32.const 1)))
      (if (i32.eq (local.get $base) (i32.const -1)) (then
        (call $puts (i32.const 2) (i32.const 40100))
        (call $proc_exit (i32.const 2))))
      (local.set $base (i32.shl (local.get $base) (i32.const 16)))
      (local.set $off (i32.const 0))
      (block $page (loop $touch
        (br_if $page (i32.ge_u (local.get $off) (i32.const 65536)))
        (i32.store (i32.add (local.get $base) (local.get $off)) (i32.const 1))
        (local.set $off (i32.add (local.get $off) (i32.const 4096)))
        (br $touch)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $puts (i32.const 1) (i32.const 40000))
    (call $proc_exit (i32.const 0)))`,
  // traps: "unreachable"
  trap: `
  (func (export "_start") unreachable)`,
  // traps: a load past the end of its memory
  oob: `
  (func (export "_start") (drop (i32.load (i32.const 0x7ffffff0))))`,
};

/** Modules that must be refused, as text (compiled) or raw bytes. */
const BAD_MODULES = {
  // imports a function WASI does not give
  envImport: `(module (import "env" "host_call" (func)) (memory (export "memory") 1) (func (export "_start")))`,
  // a reactor, not a command
  noStart: `(module (memory (export "memory") 1) (func (export "_initialize")))`,
};

let dir;
function buildDir() {
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsrunc-wasm-modules-'));
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return dir;
}

/** Why modules cannot be built here (wat2wasm missing), or undefined. */
function unavailable() {
  const r = spawnSync('wat2wasm', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? 'wat2wasm is not installed (apt-get install wabt)' : undefined;
}

/** Compiles module text to a .wasm file once; returns its path. */
function compile(name, text) {
  const out = path.join(buildDir(), `${name}.wasm`);
  if (fs.existsSync(out)) return out;
  const src = path.join(buildDir(), `${name}.wat`);
  fs.writeFileSync(src, text);
  const r = spawnSync('wat2wasm', [src, '-o', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wat2wasm ${name}: ${r.stderr || r.error}`);
  return out;
}

/** The .wasm file of MODULES[name]. */
function moduleFile(name) {
  if (MODULES[name]) return compile(name, `(module${PRELUDE}${MODULES[name]})`);
  if (BAD_MODULES[name]) return compile(name, BAD_MODULES[name]);
  throw new Error(`no test module ${name}`);
}

/** Copies modules into a rootfs as /<name>.wasm (mode 0644: a module need not be executable). */
function installModules(rootfs, names) {
  for (const n of names) fs.copyFileSync(moduleFile(n), path.join(rootfs, `${n}.wasm`));
}

module.exports = { MODULES, BAD_MODULES, unavailable, moduleFile, installModules };
