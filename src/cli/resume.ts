import type { Argv } from 'yargs';
import { action, requireId } from './command';
import { resumeContainer } from '../container/cgroup-ops';

export const builder = (y: Argv) => y;
export const handler = action<{ id?: string }>((argv, ctx) => {
  resumeContainer(ctx.store, requireId(argv, 'resume'));
});
