'use strict';
// Known failures of reference runtimes: checks that a runtime gets wrong
// against the spec, so that a run against it can still pass (they are
// reported as TAP "# TODO"). Selected with `run.js --known-failures NAME`
// or TSRUNC_CONFORMANCE_KNOWN=NAME. A case is "known" only when every one
// of its failed checks matches an entry for it.

const KNOWN = {
  // tsrunc itself: deliberate differences from the spec, kept for runc compatibility.
  tsrunc: [
    {
      case: 'lifecycle-force-delete', check: /^delete of a created container without --force/,
      reason: 'tsrunc deletes a created (never started) container without --force, as runc does: containerd and podman rely on it',
    },
  ],
  // runc 1.1.5 as packaged in Debian 12, cgroup v1 host, validated on 2026-11-23.
  'runc-1.1': [
    {
      case: 'hostname', check: /^domainname$/,
      reason: 'runc 1.1 ignores the domainname field',
    },
    {
      case: 'rootfs-propagation-shared', check: /^linux\.rootfsPropagation=shared/,
      reason: 'runc 1.1 makes the mount holding the rootfs private before binding it, so / is never shared',
    },
    {
      case: 'rootfs-propagation-unbindable', check: /.*/,
      reason: 'runc 1.1 makes / unbindable and then bind-mounts the rootfs from it: EINVAL when / is shared',
    },
    {
      case: 'ns-user-path-no-mappings', check: /.*/,
      reason: 'runc 1.1 requires uidMappings/gidMappings even when joining a user namespace by path',
    },
    {
      case: 'lifecycle-force-delete', check: /^delete of a created container without --force/,
      reason: 'runc 1.1 deletes (kills) a created container without --force; the spec requires an error',
    },
    {
      case: 'personality-linux32', check: /^linux\.personality\.domain=LINUX32/,
      reason: 'runc 1.1 predates linux.personality and ignores it (the process keeps PER_LINUX)',
    },
    {
      case: 'resources-memory', check: /linux\.resources\.memory\.kernelTCP/,
      reason: 'runc 1.1 ignores memory.kernelTCP (kernel memory accounting is deprecated)',
    },
    {
      case: 'resources-cpu', check: /linux\.resources\.cpu\.(burst|idle) /,
      reason: 'runc 1.1 predates cpu.burst, ignores cpu.idle on cgroup v1, and its update does not change cpu.idle',
    },
  ],
};

/**
 * Marks `result` (from runCase) as a known failure when all its failed
 * checks are listed under `name`. Sets result.todo (array of reasons) or
 * result.fixed (known entries whose checks now pass).
 */
function applyKnown(result, name) {
  const entries = (KNOWN[name] || []).filter((e) => e.case === result.name);
  if (!name || entries.length === 0 || result.skip) return result;
  const failed = result.checks.filter((c) => !c.ok);
  if (failed.length === 0) {
    result.fixed = entries.map((e) => e.reason);
    return result;
  }
  const unknown = failed.filter((c) => !entries.some((e) => e.check.test(c.name)));
  if (unknown.length === 0) {
    result.todo = [...new Set(failed.map((c) => entries.find((e) => e.check.test(c.name)).reason))];
  }
  return result;
}

module.exports = { KNOWN, applyKnown };
