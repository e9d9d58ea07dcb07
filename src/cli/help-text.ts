// The help texts of tsrunc's commands, in runc 1.1.5's words and layout
// (urfave/cli's templates as runc renders them: `runc COMMAND --help` on
// Debian 12), with the program's own name where runc prints "runc".
// Generated once from runc's output; edit by hand when a command changes.

/** `NAME COMMAND --help` for `name` (the program: tsrunc), or undefined for a command tsrunc does not have. */
export function commandHelpText(command: string, name: string): string | undefined {
  const text = TEXTS[command];
  return text === undefined ? undefined : text(name);
}

const TEXTS: Record<string, (name: string) => string> = {
  create: (name) => `NAME:
   ${name} create - create a container

USAGE:
   ${name} create [command options] <container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

DESCRIPTION:
   The create command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"${name} spec --help" for more explanation.

OPTIONS:
   --bundle value, -b value  path to the root of the bundle directory, defaults to the current directory
   --console-socket value    path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal
   --pid-file value          specify the file to write the process id to
   --no-pivot                do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk
   --no-new-keyring          do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key
   --preserve-fds value      Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)
   
`,
  delete: (name) => `NAME:
   ${name} delete - delete any resources held by the container often used with detached container

USAGE:
   ${name} delete [command options] <container-id>

Where "<container-id>" is the name for the instance of the container.

EXAMPLE:
For example, if the container id is "ubuntu01" and ${name} list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the ${name} list of containers:

       # ${name} delete ubuntu01

OPTIONS:
   --force, -f  Forcibly deletes the container if it is still running (uses SIGKILL)
   
`,
  events: (name) => `NAME:
   ${name} events - display container events such as OOM notifications, cpu, memory, and IO usage statistics

USAGE:
   ${name} events [command options] <container-id>

Where "<container-id>" is the name for the instance of the container.

DESCRIPTION:
   The events command displays information about the container. By default the
information is displayed once every 5 seconds.

OPTIONS:
   --interval value  set the stats collection interval (default: 5s)
   --stats           display the container's stats then exit
   
`,
  exec: (name) => `NAME:
   ${name} exec - execute new process inside the container

USAGE:
   ${name} exec [command options] <container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

EXAMPLE:
For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # ${name} exec <container-id> ps

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
   ${name} kill - kill sends the specified signal (default: SIGTERM) to the container's init process

USAGE:
   ${name} kill [command options] <container-id> [signal]

Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.

EXAMPLE:
For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # ${name} kill ubuntu01 KILL

OPTIONS:
   --all, -a  send the specified signal to all processes inside the container
   
`,
  list: (name) => `NAME:
   ${name} list - lists containers started by ${name} with the given root

USAGE:
   ${name} list [command options] 

Where the given root is specified via the global option "--root"
(default: "/run/${name}").

EXAMPLE 1:
To list containers created via the default "--root":
       # ${name} list

EXAMPLE 2:
To list containers created using a non-default value for "--root":
       # ${name} --root value list

OPTIONS:
   --format value, -f value  select one of: table or json (default: "table")
   --quiet, -q               display only container IDs
   
`,
  pause: (name) => `NAME:
   ${name} pause - pause suspends all processes inside the container

USAGE:
   ${name} pause <container-id>

Where "<container-id>" is the name for the instance of the container to be
paused. 

DESCRIPTION:
   The pause command suspends all processes in the instance of the container.

Use ${name} list to identify instances of containers and their current status.
`,
  ps: (name) => `NAME:
   ${name} ps - ps displays the processes running inside a container

USAGE:
   ${name} ps [command options] <container-id> [ps options]

OPTIONS:
   --format value, -f value  select one of: table or json (default: "table")
   
`,
  resume: (name) => `NAME:
   ${name} resume - resumes all processes that have been previously paused

USAGE:
   ${name} resume <container-id>

Where "<container-id>" is the name for the instance of the container to be
resumed.

DESCRIPTION:
   The resume command resumes all processes in the instance of the container.

Use ${name} list to identify instances of containers and their current status.
`,
  run: (name) => `NAME:
   ${name} run - create and run a container

USAGE:
   ${name} run [command options] <container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

DESCRIPTION:
   The run command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"${name} spec --help" for more explanation.

OPTIONS:
   --bundle value, -b value  path to the root of the bundle directory, defaults to the current directory
   --console-socket value    path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal
   --detach, -d              detach from the container's process
   --keep                    do not delete the container after it exits
   --pid-file value          specify the file to write the process id to
   --no-subreaper            disable the use of the subreaper used to reap reparented processes
   --no-pivot                do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk
   --no-new-keyring          do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key
   --preserve-fds value      Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)
   
`,
  spec: (name) => `NAME:
   ${name} spec - create a new specification file

USAGE:
   ${name} spec [command options] [arguments...]

DESCRIPTION:
   The spec command creates the new specification file named "config.json" for
the bundle.

The spec generated is just a starter file. Editing of the spec is required to
achieve desired results. For example, the newly generated spec includes an args
parameter that is initially set to call the "sh" command when the container is
started. Calling "sh" may work for an ubuntu container or busybox, but will not
work for containers that do not include the "sh" program.

EXAMPLE:
  To run docker's hello-world container one needs to set the args parameter
in the spec to call hello. This can be done using the sed command or a text
editor. The following commands create a bundle for hello-world, change the
default args parameter in the spec from "sh" to "/hello", then run the hello
command in a new hello-world container named container1:

    mkdir hello
    cd hello
    docker pull hello-world
    docker export $(docker create hello-world) > hello-world.tar
    mkdir rootfs
    tar -C rootfs -xf hello-world.tar
    ${name} spec
    sed -i 's;"sh";"/hello";' config.json
    ${name} run container1

In the run command above, "container1" is the name for the instance of the
container that you are starting. The name you provide for the container instance
must be unique on your host.

An alternative for generating a customized spec config is to use "oci-runtime-tool", the
sub-command "oci-runtime-tool generate" has lots of options that can be used to do any
customizations as you want, see runtime-tools (https://github.com/opencontainers/runtime-tools)
to get more information.

When starting a container through ${name}, ${name} needs root privilege. If not
already running as root, you can use sudo to give ${name} root privilege. For
example: "sudo ${name} start container1" will give ${name} root privilege to start the
container on your host.

Alternatively, you can start a rootless container, which has the ability to run
without root privileges. For this to work, the specification file needs to be
adjusted accordingly. You can pass the parameter --rootless to this command to
generate a proper rootless spec file.

Note that --rootless is not needed when you execute ${name} as the root in a user namespace
created by an unprivileged user.


OPTIONS:
   --bundle value, -b value  path to the root of the bundle directory
   --rootless                generate a configuration for a rootless container
   
`,
  start: (name) => `NAME:
   ${name} start - executes the user defined process in a created container

USAGE:
   ${name} start <container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.

DESCRIPTION:
   The start command executes the user defined process in a created container.
`,
  state: (name) => `NAME:
   ${name} state - output the state of a container

USAGE:
   ${name} state <container-id>

Where "<container-id>" is your name for the instance of the container.

DESCRIPTION:
   The state command outputs current state information for the
instance of a container.
`,
  update: (name) => `NAME:
   ${name} update - update container resource constraints

USAGE:
   ${name} update [command options] <container-id>

OPTIONS:
   --resources value, -r value  path to the file containing the resources to update or '-' to read from the standard input

The accepted format is as follow (unchanged values can be omitted):

{
  "memory": {
    "limit": 0,
    "reservation": 0,
    "swap": 0
  },
  "cpu": {
    "shares": 0,
    "quota": 0,
    "period": 0,
    "realtimeRuntime": 0,
    "realtimePeriod": 0,
    "cpus": "",
    "mems": ""
  },
  "blockIO": {
    "weight": 0
  }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.
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
   
`,
  features: (name) => `NAME:
   ${name} features - show the enabled features

USAGE:
   ${name} features [arguments...]

DESCRIPTION:
   Show the enabled features.
   The result is parsable as a JSON.
   See https://github.com/opencontainers/runtime-spec/blob/main/features.md for the type definition.
   The types are experimental and subject to change.

`,
  help: (_name) => `NAME:
    - Shows a list of commands or help for one command

USAGE:
    [command]
`,
};
