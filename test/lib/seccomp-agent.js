'use strict';
// A small seccomp agent for SCMP_ACT_NOTIFY tests: accepts one connection on
// argv[1] ("@name": the abstract socket "\0name"), reads the container process state and the listener fd, answers
// one notification with -argv[3] (an errno), and writes what it saw as JSON
// to argv[2]: { state, nfds, fdlink, notif: { pid, nr } }.
const fs = require('fs');
const assert = require('uvu/assert');
const { sleepMs } = require('./harness');

const AGENT = String.raw`
import array, fcntl, json, os, socket, struct, sys
sock_path, out_path, answer = sys.argv[1], sys.argv[2], int(sys.argv[3])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind("\0" + sock_path[1:] if sock_path.startswith("@") else sock_path)
srv.listen(1)
open(out_path + ".listening", "w").close()
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, flags, addr = conn.recvmsg(1 << 20, socket.CMSG_LEN(16 * fds.itemsize))
for level, typ, data in anc:
    if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
rest = b""
conn.settimeout(2)
try:
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
except socket.timeout:
    pass
out = {"state": json.loads((msg + rest).decode()), "nfds": len(fds)}
fd = fds[0]
out["fdlink"] = os.readlink("/proc/self/fd/%d" % fd)
# struct seccomp_notif: u64 id, u32 pid, u32 flags, seccomp_data { int nr; u32 arch; u64 ip; u64 args[6] }
req = bytearray(80)
fcntl.ioctl(fd, 0xC0502100, req, True)  # SECCOMP_IOCTL_NOTIF_RECV
nid, pid, _flags, nr = struct.unpack_from("=QIIi", req, 0)
out["notif"] = {"pid": pid, "nr": nr}
# struct seccomp_notif_resp: u64 id, s64 val, s32 error, u32 flags
resp = bytearray(struct.pack("=QqiI", nid, 0, -answer, 0))
fcntl.ioctl(fd, 0xC0182101, resp, True)  # SECCOMP_IOCTL_NOTIF_SEND
with open(out_path, "w") as f:
    json.dump(out, f)
`;

/**
 * Starts the agent (a helper process of `ctx`, killed with it) and waits
 * until it listens; `abstract`: on an abstract socket, "@<unique name>". Returns { sock, out, done(ms), stderr() }: `done` resolves
 * when the agent is done, or after `ms` (then it is killed): never hangs a suite.
 */
function startSeccompAgent(ctx, errno, { abstract = false } = {}) {
  const sock = abstract ? `@${ctx.tmp('agent.sock')}` : ctx.tmp('agent.sock');
  const out = ctx.tmp('agent.json');
  const script = ctx.tmp('agent.py');
  fs.writeFileSync(script, AGENT);
  const child = ctx.spawnHelper('python3', [script, sock, out, String(errno)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const done = (ms) =>
    Promise.race([exited, new Promise((resolve) => setTimeout(resolve, ms))]).then(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
  // Wait (synchronously: the runtime runs with spawnSync) until it listens; python starts slowly on a busy machine.
  const end = Date.now() + 30_000;
  while (!fs.existsSync(out + '.listening') && child.exitCode === null && Date.now() < end) sleepMs(10);
  assert.ok(fs.existsSync(out + '.listening'), `the agent did not start: ${err}`);
  return { sock, out, done, stderr: () => err };
}

module.exports = { startSeccompAgent };
