// Flags `checkpoint` and `restore` share (runc's), and their translation to the library's CRIU options.
import type { Argv } from 'yargs';
import { type GlobalArgs } from './context';
import { type CriuFlags } from '../container/criu-options';

export interface CriuArgs extends GlobalArgs {
  id?: string;
  'image-path'?: string;
  'work-path'?: string;
  'parent-path'?: string;
  'leave-running'?: boolean;
  'tcp-established'?: boolean;
  'ext-unix-sk'?: boolean;
  'shell-job'?: boolean;
  'lazy-pages'?: boolean;
  'status-fd'?: number;
  'page-server'?: string;
  'file-locks'?: boolean;
  'pre-dump'?: boolean;
  'manage-cgroups-mode'?: string;
  'empty-ns'?: string | string[];
  'auto-dedup'?: boolean;
  'lsm-profile'?: string;
  'lsm-mount-context'?: string;
}

const str = (describe: string) => ({ type: 'string' as const, describe, requiresArg: true });
const bool = (describe: string) => ({ type: 'boolean' as const, describe });

/** The flags both commands have. */
export function sharedCriuFlags(y: Argv): Argv {
  return y
    .option('image-path', str('path for criu image files'))
    .option('work-path', str('path for saving work files and logs'))
    .option('tcp-established', bool('allow open tcp connections'))
    .option('ext-unix-sk', bool('allow external unix sockets'))
    .option('shell-job', bool('allow shell jobs'))
    .option('lazy-pages', bool('use userfaultfd to lazily restore memory pages'))
    .option('file-locks', bool('handle file locks, for safety'))
    .option('manage-cgroups-mode', str("cgroups mode: 'soft' (default), 'full', 'strict' and 'ignore'"))
    .option('empty-ns', { type: 'string', nargs: 1, requiresArg: true, describe: "create a namespace, but don't restore its properties" })
    .option('auto-dedup', bool('enable auto deduplication of memory images'));
}

export function criuFlags(argv: CriuArgs): CriuFlags {
  const emptyNs = argv['empty-ns'];
  return {
    criu: argv.criu,
    imagePath: argv['image-path'],
    workPath: argv['work-path'],
    parentPath: argv['parent-path'],
    leaveRunning: argv['leave-running'],
    tcpEstablished: argv['tcp-established'],
    extUnixSk: argv['ext-unix-sk'],
    shellJob: argv['shell-job'],
    fileLocks: argv['file-locks'],
    preDump: argv['pre-dump'],
    autoDedup: argv['auto-dedup'],
    lazyPages: argv['lazy-pages'],
    statusFd: argv['status-fd'],
    pageServer: argv['page-server'],
    manageCgroupsMode: argv['manage-cgroups-mode'],
    emptyNs: emptyNs === undefined ? undefined : ([] as string[]).concat(emptyNs).map(String),
    lsmProfile: argv['lsm-profile'],
    lsmMountContext: argv['lsm-mount-context'],
  };
}
