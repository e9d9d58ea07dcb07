// The parts of the OCI runtime-spec config that tsrunc reads, as TypeScript
// types. The JSON Schemas in schemas/ are the authority on shape; these types
// only let the compiler check our use of fields.

export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface Rlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface Capabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[]; username?: string };
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: Capabilities;
  rlimits?: Rlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
  scheduler?: { policy: string; nice?: number; priority?: number; flags?: string[]; runtime?: number; deadline?: number; period?: number };
  ioPriority?: { class: string; priority: number };
  execCPUAffinity?: { initial?: string; final?: string };
}

export interface Namespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';
  path?: string;
}

export interface Device {
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface Linux {
  namespaces?: Namespace[];
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
  devices?: Device[];
  cgroupsPath?: string;
  resources?: Record<string, unknown>;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  sysctl?: Record<string, string>;
  seccomp?: Record<string, unknown>;
  personality?: { domain: string; flags?: string[] };
  timeOffsets?: Record<string, { secs?: number; nanosecs?: number }>;
  intelRdt?: Record<string, unknown>;
  /** Keyed by the device's name in the runtime's network namespace. */
  netDevices?: Record<string, NetDevice>;
  memoryPolicy?: MemoryPolicy;
  [key: string]: unknown;
}

export interface NetDevice {
  /** Its name in the container (the host's name when absent or empty); "%d" makes it a template. */
  name?: string;
}

export interface MemoryPolicy {
  mode: string;
  /** Node list, "0-3,7". */
  nodes?: string;
  flags?: string[];
}

export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Record<string, Hook[]>;
  annotations?: Record<string, string>;
  linux?: Linux;
}
