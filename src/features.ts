// The runtime-spec Features structure (features.md, features-linux.md): what
// this build of tsrunc recognises and can really do on this host.
import * as fs from 'fs';
import { SPEC_VERSION, TSRUNC_VERSION, TSRUNC_COMMIT } from './version';
import { knownMountOptions } from './bundle/mount-options';
import { CAPABILITIES, kernelLastCap } from './linux/capabilities';
import { seccompFeatures } from './seccomp/compile';
import { versionString as libseccompVersion } from './seccomp/libseccomp';
import { apparmorEnabled, selinuxEnabled } from './linux/lsm';
import { NAMESPACE_FILES } from './linux/namespaces';
import { MPOL_MODES, MPOL_FLAGS } from './linux/mempolicy';

export function features(): Record<string, unknown> {
  const seccomp = seccompFeatures();
  const annotations: Record<string, string> = {
    'org.opencontainers.tsrunc.version': TSRUNC_VERSION,
    // containers marked module.wasm.image/variant=compat|compat-smart or run.oci.handler=wasm|wasm-smart
    // run a WebAssembly module in place of execve (src/bundle/wasm.ts), as crun's run.oci.crun.wasm says
    'org.opencontainers.tsrunc.wasm': 'true',
    'org.opencontainers.tsrunc.wasm.wasi': 'preview1',
    // checkpoint and restore (with CRIU): runc's key, which crun sets too and callers (Docker) read
    'org.opencontainers.runc.checkpoint.enabled': 'true',
  };
  if (TSRUNC_COMMIT) annotations['org.opencontainers.tsrunc.commit'] = TSRUNC_COMMIT; // runc's org.opencontainers.runc.commit
  if (seccomp.enabled) annotations['io.github.seccomp.libseccomp.version'] = libseccompVersion();
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: SPEC_VERSION,
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: knownMountOptions(),
    linux: {
      // only the namespace types this kernel has
      namespaces: Object.keys(NAMESPACE_FILES).filter((t) => fs.existsSync(`/proc/self/ns/${NAMESPACE_FILES[t]}`)),
      capabilities: CAPABILITIES.slice(0, kernelLastCap() + 1),
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true },
      seccomp,
      apparmor: { enabled: apparmorEnabled() },
      selinux: { enabled: selinuxEnabled() },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
      memoryPolicy: { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS) },
      netDevices: { enabled: true },
    },
    annotations,
  };
}
