// The help texts of tsrunc's commands in runc 1.1.5's layout (urfave/cli's
// NAME / USAGE / DESCRIPTION / OPTIONS sections, the same usage lines and
// flags), with descriptions of our own. Edit by hand when a command changes.

/** `NAME COMMAND --help` for `name` (the program: tsrunc), or undefined for a command tsrunc does not have. */
export function commandHelpText(command: string, name: string): string | undefined {
  const text = TEXTS[command];
  return text === undefined ? undefined : text(name);
}

const TEXTS: Record<string, (name: string) => string> = {
  checkpoint: (name) => `NAME:
   ${name} checkpoint - checkpoint a running container

USAGE:
   ${name} checkpoint [command options] <container-id>

Where "<container-id>" is the name for the instance of the container to be
checkpointed.

DESCRIPTION:
   Saves the state of the container's processes with CRIU (criu(8), "criu swrk"
through its RPC; --criu names the binary) into --image-path (default
./checkpoint). The container is deleted afterwards, unless --leave-running or
--pre-dump. CRIU's log (dump.log) goes to --work-path, else the image path.
Where CRIU cannot run (missing, or a kernel it cannot work with) the error says
why and the container runs on.

OPTIONS:
   --image-path value           path for saving criu image files
   --work-path value            path for saving work files and logs
   --parent-path value          path for previous criu image files in pre-dump
   --leave-running              leave the process running after checkpointing
   --tcp-established            allow open tcp connections
   --ext-unix-sk                allow external unix sockets
   --shell-job                  allow shell jobs
   --lazy-pages                 use userfaultfd to lazily restore memory pages
   --status-fd value            criu writes \\0 to this FD once lazy-pages is ready (default: -1)
   --page-server value          ADDRESS:PORT of the page server
   --file-locks                 handle file locks, for safety
   --pre-dump                   dump container's memory information only, leave the container running after this
   --manage-cgroups-mode value  cgroups mode: 'soft' (default), 'full', 'strict' and 'ignore'
   --empty-ns value             create a namespace, but don't restore its properties
   --auto-dedup                 enable auto deduplication of memory images
   
`,
  create: (name) => `NAME:
   ${name} create - create a container from a bundle, ready to be started

USAGE:
   ${name} create [command options] <container-id>

DESCRIPTION:
   Makes the container described by the bundle (a directory holding config.json
and the root filesystem) up to the point where its process would run; "${name} start"
runs it. The id must not be in use under the same --root.

OPTIONS:
   --bundle value, -b value  path to the root of the bundle directory, defaults to the current directory
   --console-socket value    path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal
   --pid-file value          specify the file to write the process id to
   --no-pivot                do not use pivot_root: move the rootfs over "/" and chroot into it, for a rootfs pivot_root cannot take (one on a ramdisk). Unsafe: the host's mounts stay in the container's mount namespace, hidden but not gone; the kernel counts them when the container mounts (the host's proc and sysfs are unmounted first for that), and a way out of the chroot would reach them
   --no-new-keyring          do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key
   --preserve-fds value      Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)
   
`,
  delete: (name) => `NAME:
   ${name} delete - remove a container and everything it holds

USAGE:
   ${name} delete [command options] <container-id>

DESCRIPTION:
   Removes the state, cgroups and mounts of a stopped (or created) container.
With --force a running container is killed with SIGKILL first.

       # ${name} delete mycontainer

OPTIONS:
   --force, -f  Forcibly deletes the container if it is still running (uses SIGKILL)
   
`,
  events: (name) => `NAME:
   ${name} events - show a container's events and statistics

USAGE:
   ${name} events [command options] <container-id>

DESCRIPTION:
   Prints the container's OOM events and, every --interval, its statistics, as
one JSON object per line; with --stats, the statistics once.

OPTIONS:
   --interval value  set the stats collection interval (default: 5s)
   --stats           display the container's stats then exit
   
`,
  exec: (name) => `NAME:
   ${name} exec - run another process in a running container

USAGE:
   ${name} exec [command options] <container-id> <command> [command options]  || -p process.json <container-id>

DESCRIPTION:
   The command and its arguments follow the container id; or -p names a JSON file
with a whole process object (runtime-spec config.md "process").

       # ${name} exec mycontainer ps

OPTIONS:
   --console-socket value             path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal
   --cwd value                        current working directory in the container
   --env value, -e value              set environment variables
   --tty, -t                          allocate a pseudo-TTY
   --user value, -u value             UID (format: <uid>[:<gid>])
   --additional-gids value, -g value  additional gids
   --process value, -p value          path to the process.json
   --detach, -d                       detach from the container's process
   --pid-file value                   specify the file to write the process id to
   --process-label value              set the asm process label for the process commonly used with selinux
   --apparmor value                   set the apparmor profile for the process
   --no-new-privs                     set the no new privileges value for the process
   --cap value, -c value              add a capability to the bounding set for the process
   --preserve-fds value               Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)
   --cgroup value                     run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.
   --ignore-paused                    allow exec in a paused container
   
`,
  kill: (name) => `NAME:
   ${name} kill - send a signal to a container's init (default: SIGTERM)

USAGE:
   ${name} kill [command options] <container-id> [signal]

DESCRIPTION:
   The signal is a name (KILL, SIGKILL) or a number. With --all it goes to every
process of the container.

       # ${name} kill mycontainer KILL

OPTIONS:
   --all, -a  send the specified signal to all processes inside the container
   
`,
  list: (name) => `NAME:
   ${name} list - list the containers under the state directory

USAGE:
   ${name} list [command options] 

DESCRIPTION:
   The state directory is the global --root (default "/run/${name}").

       # ${name} list
       # ${name} --root /other/root list --format json

OPTIONS:
   --format value, -f value  select one of: table or json (default: "table")
   --quiet, -q               display only container IDs
   
`,
  pause: (name) => `NAME:
   ${name} pause - freeze every process of a container

USAGE:
   ${name} pause <container-id>

DESCRIPTION:
   Freezes the container's cgroup; "${name} resume" thaws it.

`,
  ps: (name) => `NAME:
   ${name} ps - list the processes of a container

USAGE:
   ${name} ps [command options] <container-id> [ps options]

OPTIONS:
   --format value, -f value  select one of: table or json (default: "table")
   
`,
  restore: (name) => `NAME:
   ${name} restore - restore a container from a previous checkpoint

USAGE:
   ${name} restore [command options] <container-id>

Where "<container-id>" is the name for the instance of the container to be
restored.

DESCRIPTION:
   Restores the saved state of the container instance that was previously saved
using the ${name} checkpoint command, as a new container of this id (the
checkpointed one's or another) from the bundle's config.json: its cgroup, bind
mounts and hooks. Without --detach it stays until the process ends and exits
with its status.

OPTIONS:
   --console-socket value       path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal
   --image-path value           path to criu image files for restoring
   --work-path value            path for saving work files and logs
   --tcp-established            allow open tcp connections
   --ext-unix-sk                allow external unix sockets
   --shell-job                  allow shell jobs
   --file-locks                 handle file locks, for safety
   --manage-cgroups-mode value  cgroups mode: 'soft' (default), 'full', 'strict' and 'ignore'
   --bundle value, -b value     path to the root of the bundle directory
   --detach, -d                 detach from the container's process
   --pid-file value             specify the file to write the process id to
   --no-subreaper               disable the use of the subreaper used to reap reparented processes
   --no-pivot                   accepted as runc accepts it; a restore does no pivot_root (CRIU restores the mount namespace)
   --empty-ns value             create a namespace, but don't restore its properties
   --auto-dedup                 enable auto deduplication of memory images
   --lazy-pages                 use userfaultfd to lazily restore memory pages
   --lsm-profile value          Specify an LSM profile to be used during restore in the form of TYPE:NAME.
   --lsm-mount-context value    Specify an LSM mount context to be used during restore.
   
`,
  resume: (name) => `NAME:
   ${name} resume - thaw a paused container

USAGE:
   ${name} resume <container-id>

DESCRIPTION:
   Thaws the container's cgroup after "${name} pause".

`,
  run: (name) => `NAME:
   ${name} run - create a container from a bundle and run its process

USAGE:
   ${name} run [command options] <container-id>

DESCRIPTION:
   Does "${name} create" then "${name} start" in one step. Without --detach it stays
until the process ends and exits with its status (128+N for a signal N).

OPTIONS:
   --bundle value, -b value  path to the root of the bundle directory, defaults to the current directory
   --console-socket value    path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal
   --detach, -d              detach from the container's process
   --keep                    do not delete the container after it exits
   --pid-file value          specify the file to write the process id to
   --no-subreaper            disable the use of the subreaper used to reap reparented processes
   --no-pivot                do not use pivot_root: move the rootfs over "/" and chroot into it, for a rootfs pivot_root cannot take (one on a ramdisk). Unsafe: the host's mounts stay in the container's mount namespace, hidden but not gone; the kernel counts them when the container mounts (the host's proc and sysfs are unmounted first for that), and a way out of the chroot would reach them
   --no-new-keyring          do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key
   --preserve-fds value      Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)
   
`,
  spec: (name) => `NAME:
   ${name} spec - write a starter config.json

USAGE:
   ${name} spec [command options] [arguments...]

DESCRIPTION:
   Writes config.json in the bundle directory: a default configuration whose
process runs "sh". Edit it for your image (process.args, mounts...). With
--rootless the configuration maps your own ids and runs without root.

OPTIONS:
   --bundle value, -b value  path to the root of the bundle directory
   --rootless                generate a configuration for a rootless container
   
`,
  start: (name) => `NAME:
   ${name} start - run the process of a created container

USAGE:
   ${name} start <container-id>

DESCRIPTION:
   Starts the user process of a container made by "${name} create".

`,
  state: (name) => `NAME:
   ${name} state - print a container's state as JSON

USAGE:
   ${name} state <container-id>

DESCRIPTION:
   Prints the runtime-spec state of the container (id, pid, status, bundle...).

`,
  update: (name) => `NAME:
   ${name} update - change a running container's resource limits

USAGE:
   ${name} update [command options] <container-id>

OPTIONS:
   --resources value, -r value  path to the file containing the resources to update or '-' to read from the standard input
   --blkio-weight value        Specifies per cgroup weight, range is from 10 to 1000 (default: 0)
   --cpu-period value          CPU CFS period to be used for hardcapping (in usecs). 0 to use system default
   --cpu-quota value           CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period
   --cpu-share value           CPU shares (relative weight vs. other containers)
   --cpu-rt-period value       CPU realtime period to be used for hardcapping (in usecs). 0 to use system default
   --cpu-rt-runtime value      CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period
   --cpuset-cpus value         CPU(s) to use
   --cpuset-mems value         Memory node(s) to use
   --memory value              Memory limit (in bytes)
   --memory-reservation value  Memory reservation or soft_limit (in bytes)
   --memory-swap value         Total memory usage (memory + swap); set '-1' to enable unlimited swap
   --pids-limit value          Maximum number of pids allowed in the container (default: 0)
   --l3-cache-schema value     The string of Intel RDT/CAT L3 cache schema
   --mem-bw-schema value       The string of Intel RDT/MBA memory bandwidth schema
   
With --resources, the file (or standard input) holds linux.resources as JSON
(runtime-spec config-linux.md); the other flags are then ignored.
`,
  features: (name) => `NAME:
   ${name} features - print what this runtime supports, as JSON

USAGE:
   ${name} features [arguments...]

DESCRIPTION:
   The runtime-spec features document (https://github.com/opencontainers/runtime-spec/blob/main/features.md).

`,
  help: (_name) => `NAME:
    - Shows a list of commands or help for one command

USAGE:
    [command]
`,
};
