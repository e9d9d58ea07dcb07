// Debug lines of the forked stages (--debug), in runc's words: runc's nsexec
// and init write theirs to a log pipe that runc copies into its log; ours go
// to the runtime over the channel (a `log` message), which logs them in order.
// Nothing is sent without --debug.
import * as sys from '../../linux/sys';
import { type Channel, type ChildMessage, type ParentMessage } from '../protocol';

export type StageLog = (msg: string) => void;

const silent: StageLog = () => undefined;

/** Sends `msg` as is (runc's Go-side lines: "child process in init()"). */
export function stageLog(chan: Channel<ChildMessage, ParentMessage>, enabled: boolean | undefined): StageLog {
  if (!enabled) return silent;
  return (msg) => {
    try {
      chan.send({ type: 'log', msg });
    } catch {
      /* the runtime is gone: its log with it */
    }
  };
}

/** nsexec's lines: "nsexec-N[pid]: msg", the pid as this stage sees it (1 for the init, in its pid namespace). */
export function nsexecLog(log: StageLog, stage: 1 | 2): StageLog {
  if (log === silent) return silent;
  return (msg) => log(`nsexec-${stage}[${sys.getpid()}]: ${msg}`);
}

/** setns's line, with the kernel's name of the namespace (runc's "net", "mnt"). */
export function setnsLine(flag: number, file: string, path: string): string {
  return `setns(0x${flag.toString(16)}) into ${file} namespace (with path ${path})`;
}
