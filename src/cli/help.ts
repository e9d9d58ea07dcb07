// Help and version as runc 1.1.5 (urfave/cli v1) shows them: which command
// line asks for what, and the texts. `--help`/`-h` among the global flags or
// `help`/`h` alone: the main help; `COMMAND --help` (anywhere among the
// command's flags, which runc reorders before its arguments, except for
// `exec`, whose flags end at the container id): that command's help;
// `help COMMAND`: the same; an unknown command or help topic: "No help topic
// for 'X'", exit status 3. All of it on stdout, exit status 0.
import { commandHelpText } from './help-text';

export type HelpRequest =
  | { kind: 'main' }
  | { kind: 'version' }
  | { kind: 'command'; command: string }
  | { kind: 'unknown'; topic: string };

/** runc's commands that tsrunc has, in the order runc's help lists them. */
const LISTED: [names: string, usage: string][] = [
  ['checkpoint', 'checkpoint a running container'],
  ['create', 'create a container'],
  ['delete', 'delete any resources held by the container often used with detached container'],
  ['events', 'display container events such as OOM notifications, cpu, memory, and IO usage statistics'],
  ['exec', 'execute new process inside the container'],
  ['kill', "kill sends the specified signal (default: SIGTERM) to the container's init process"],
  ['list', 'lists containers started by %s with the given root'],
  ['pause', 'pause suspends all processes inside the container'],
  ['ps', 'ps displays the processes running inside a container'],
  ['restore', 'restore a container from a previous checkpoint'],
  ['resume', 'resumes all processes that have been previously paused'],
  ['run', 'create and run a container'],
  ['spec', 'create a new specification file'],
  ['start', 'executes the user defined process in a created container'],
  ['state', 'output the state of a container'],
  ['update', 'update container resource constraints'],
  ['features', 'show the enabled features'],
  ['help, h', 'Shows a list of commands or help for one command'],
];

const GLOBAL_VALUE_FLAGS = new Set(['--root', '-root', '--log', '-log', '--log-format', '-log-format', '--criu', '-criu', '--rootless', '-rootless']);
const isHelpFlag = (w: string) => /^--?(h|help)(=(true|1|t|T|TRUE|True))?$/.test(w);
const isVersionFlag = (w: string) => /^--?(v|version)(=(true|1|t|T|TRUE|True))?$/.test(w);

/** The flags of `command` as its help lists them, each as --name and -name: all, and those that take a value (`--bundle value, -b value`). */
export function commandFlags(command: string): { all: Set<string>; takesValue: Set<string> } {
  const all = new Set<string>();
  const takesValue = new Set<string>();
  const text = commandHelpText(command, 'x') ?? '';
  for (const m of text.matchAll(/^ {3}(-.*?)(?: {2}|$)/gm)) {
    for (const part of m[1].split(', ')) {
      const [flag, value] = part.split(' ');
      const forms = [flag, flag.replace(/^--/, '-'), flag.replace(/^-(?!-)/, '--')];
      for (const f of forms) all.add(f);
      if (value === 'value') for (const f of forms) takesValue.add(f);
    }
  }
  return { all, takesValue };
}

const valueFlags = (command: string): Set<string> => commandFlags(command).takesValue;

/**
 * What `args` (the command line after the program's name) asks for, when it
 * is help or the version; undefined when it runs a command. `commands`: the
 * commands there are.
 */
export function helpRequest(args: string[], commands: readonly string[]): HelpRequest | undefined {
  let i = 0;
  let help = false;
  let version = false;
  for (; i < args.length; i++) {
    const w = args[i];
    if (w === '--') {
      i++;
      break;
    }
    if (!w.startsWith('-') || w === '-') break;
    if (GLOBAL_VALUE_FLAGS.has(w)) i++;
    else if (isHelpFlag(w)) help = true;
    else if (isVersionFlag(w)) version = true;
  }
  // urfave/cli checks --help before --version, and both before the command
  if (help) return { kind: 'main' };
  if (version) return { kind: 'version' };
  if (i >= args.length) return { kind: 'main' };
  const command = args[i];
  const rest = args.slice(i + 1);
  if (command === 'help' || command === 'h') {
    if (rest.some(isHelpFlag)) return { kind: 'command', command: 'help' };
    const topic = rest.find((w) => !w.startsWith('-'));
    if (topic === undefined) return { kind: 'main' };
    if (topic === 'h') return { kind: 'command', command: 'help' };
    return topic === 'help' || commands.includes(topic) ? { kind: 'command', command: topic } : { kind: 'unknown', topic };
  }
  if (!commands.includes(command)) return { kind: 'unknown', topic: command };
  if (!rest.some(isHelpFlag)) return undefined; // the usual case: no need to render the command's help for its flags
  const takesValue = valueFlags(command);
  for (let j = 0; j < rest.length; j++) {
    const w = rest[j];
    if (w === '--') break;
    if (!w.startsWith('-') || w === '-') {
      if (command === 'exec') break; // exec's flags end at the container id
      continue;
    }
    if (takesValue.has(w)) j++;
    else if (isHelpFlag(w)) return { kind: 'command', command };
  }
  return undefined;
}

/** The version lines after "NAME version " (runc's app.Version). */
export function versionText(version: string, lines: string[]): string {
  return [version, ...lines].join('\n');
}

/** `NAME --help`: runc's layout of the main help, with the commands tsrunc has and our own description. */
export function mainHelpText(name: string, version: string, defaultRoot: string): string {
  const width = Math.max(...LISTED.map(([n]) => n.length)) + 2;
  const commands = LISTED.map(([n, u]) => `   ${n.padEnd(width)}${u.replace('%s', name)}`).join('\n');
  return `NAME:
   ${name} - Open Container Initiative runtime

${name} runs containers from OCI bundles (a directory with config.json and the
root filesystem) as the runtime-spec describes, with runc's commands, flags,
state and error messages, so that containerd, podman, Docker and Kubernetes can
call it in place of runc. A container's process is a child of the caller (or of
its supervisor), as with runc.

    # ${name} run [ -b bundle ] <container-id>

USAGE:
   ${name} [global options] command [command options] [arguments...]

VERSION:
   ${version}

COMMANDS:
${commands}

GLOBAL OPTIONS:
   --debug             enable debug logging
   --log value         set the log file to write ${name} logs to (default is '/dev/stderr')
   --log-format value  set the log format ('text' (default), or 'json') (default: "text")
   --root value        root directory for storage of container state (this should be located in tmpfs) (default: "${defaultRoot}")
   --criu value        path to the criu binary used for checkpoint and restore (default: "criu")
   --systemd-cgroup    enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:${name}:434234"
   --rootless value    ignore cgroup permission errors ('true', 'false', or 'auto') (default: "auto")
   --help, -h          show help
   --version, -v       print the version`;
}

export { commandHelpText };
