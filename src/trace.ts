// Phase trace: with TSRUNC_TRACE=1 a command prints, at exit, how many ms
// each of its phases took (node's own start-up, the launcher, module loading,
// argument parsing, the command's steps, the init's stages in the forked
// children, the wait, the teardown) as a table on stderr, or into --log.
// bin/tsrunc starts the trace (globalThis.__tsruncTrace) so that its own
// phases are in it; a Node program using the API gets one from this module.
// Off (always, unless asked for), each call is one test of a variable.
//
// A phase ends at the next phase(): the phases of a process follow one
// another. span() times a step inside a phase (FFI binding, which happens on
// first use wherever that is). The forked stages start their own list
// (forked()) and send it to the parent with their messages (adopt()).

/** One timed step: ms since the process started (process.uptime(), which, unlike performance.now(), loads nothing). */
export interface TraceSpan {
  name: string;
  start: number;
  end: number;
  /** 0 for a phase, 1 and more for a span inside one. */
  depth: number;
  /** The forked stage that ran it; the runtime's own process when absent. */
  proc?: string;
}

interface TraceState {
  spans: TraceSpan[];
  /** When the current phase began. */
  last: number;
  depth: number;
  proc?: string;
  pid: number;
  sink?: (lines: string[]) => void;
}

export const TRACE_ENV = 'TSRUNC_TRACE';

const holder = globalThis as { __tsruncTrace?: TraceState };
let state: TraceState | undefined;
initTrace();

/**
 * Takes over the launcher's trace, or starts one when TSRUNC_TRACE is set.
 * Run when this module loads, and again by a start-up snapshot's main
 * function (scripts/bundle/snapshot-entry.js): the module was loaded when the
 * snapshot was built, in another process with another environment.
 */
export function initTrace(): void {
  state = holder.__tsruncTrace ?? (process.env[TRACE_ENV] ? (holder.__tsruncTrace = { spans: [], last: process.uptime() * 1000, depth: 0, pid: process.pid }) : undefined);
  if (state) process.on('exit', printAtExit);
}

export function tracing(): boolean {
  return state !== undefined;
}

/** Ends the current phase of this process, naming it. */
export function phase(name: string): void {
  if (!state) return;
  const t = process.uptime() * 1000;
  state.spans.push({ name, start: state.last, end: t, depth: 0, proc: state.proc });
  state.last = t;
}

/** Runs `fn` as a named step within the current phase. */
export function span<T>(name: string, fn: () => T): T {
  if (!state) return fn();
  const t0 = process.uptime() * 1000;
  const depth = ++state.depth;
  try {
    return fn();
  } finally {
    state.depth--;
    state.spans.push({ name, start: t0, end: process.uptime() * 1000, depth, proc: state.proc });
  }
}

/** In a forked child: its own list from here, named `proc`; the parent's spans are the parent's. */
export function forked(proc: string): void {
  if (!state) return;
  state.spans = [];
  state.proc = proc;
  state.depth = 0;
  state.last = process.uptime() * 1000;
}

/** In a forked child: what it timed so far, to send to the parent (undefined when off). */
export function collect(): TraceSpan[] | undefined {
  return state ? state.spans.splice(0) : undefined;
}

/** In the parent: the spans a child sent. */
export function adopt(spans: TraceSpan[] | undefined): void {
  if (state && Array.isArray(spans)) state.spans.push(...spans);
}

/** Where the table goes instead of stderr (the CLI's --log). */
export function setTraceSink(sink: (lines: string[]) => void): void {
  if (state) state.sink = sink;
}

function printAtExit(): void {
  if (!state || process.pid !== state.pid || state.proc) return; // a forked child leaves through _exit anyway
  phase('until exit (event loop, exit handlers)');
  const lines = traceTable(state.spans, nodePhases());
  try {
    if (state.sink) state.sink(lines);
    else require('fs').writeSync(2, lines.join('\n') + '\n');
  } catch {
    /* the trace never changes how the command ends */
  }
}

/** Node's own start-up, from its performance timeline: before any JS of ours runs. */
function nodePhases(): TraceSpan[] {
  const t = performance.nodeTiming;
  const cut: [string, number][] = [
    ['node: process start to node main', t.nodeStart],
    ['node: platform and V8 set-up', t.v8Start],
    ['node: environment', t.environment],
    ['node: bootstrap', t.bootstrapComplete],
  ];
  let prev = 0;
  return cut.map(([name, end]) => {
    const s = { name, start: prev, end, depth: 0 };
    prev = end;
    return s;
  });
}

/** The table: one row per span in order of start, the stages' rows marked with their process. */
export function traceTable(spans: TraceSpan[], node: TraceSpan[] = []): string[] {
  const all = [...node, ...spans];
  if (node.length && spans.length) {
    // from node's bootstrap to the launcher's first line: loading and compiling bin/tsrunc
    const first = spans.reduce((a, b) => (b.start < a.start ? b : a));
    const boot = node[node.length - 1].end;
    if (first.start > boot) all.push({ name: 'node: loading the main script', start: boot, end: first.start, depth: 0 });
  }
  all.sort((a, b) => a.start - b.start || a.depth - b.depth);
  const total = Math.max(...all.filter((s) => !s.proc).map((s) => s.end));
  const rows = all.map((s) => {
    const who = s.proc ? `[${s.proc}] ` : '';
    return `${s.start.toFixed(1).padStart(8)} ${(s.end - s.start).toFixed(1).padStart(7)}  ${'  '.repeat(s.depth)}${who}${s.name}`;
  });
  return [
    `tsrunc trace (pid ${process.pid}, ${process.argv.slice(2).join(' ')}): ${total.toFixed(1)} ms from process start to exit`,
    `${'at ms'.padStart(8)} ${'ms'.padStart(7)}  phase`,
    ...rows,
  ];
}
