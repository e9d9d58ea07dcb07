// The victim's process of console.test.js: `ttycheck REPORT MARKER TOKEN`
// describes what it was given as a terminal, seen from inside the container:
// for fd 0, 1, 2 and /dev/console one line
//   <name> type=<chr|reg|...> rdev=<maj>:<min> dev=<maj>:<min> ino=<n> fs=<statfs magic hex> tty=<0|1>
// (or "<name> error=<errno text>"), then "marker dev=<maj>:<min> ino=<n>" for
// MARKER, written to REPORT.tmp and renamed to REPORT (the test reads a whole
// report or none). Then it prints TOKEN on stdout, so the caller sees whether
// the terminal it was handed is the one the process writes to.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

static const char *type_of(mode_t m) {
  if (S_ISCHR(m)) return "chr";
  if (S_ISREG(m)) return "reg";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "lnk";
  if (S_ISBLK(m)) return "blk";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "sock";
  return "other";
}

static void describe(FILE *out, const char *name, int fd) {
  struct stat st;
  struct statfs sfs;
  if (fd < 0 || fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0) {
    fprintf(out, "%s error=%s\n", name, strerror(errno));
    return;
  }
  fprintf(out, "%s type=%s rdev=%u:%u dev=%u:%u ino=%llu fs=0x%lx tty=%d\n", name, type_of(st.st_mode),
          major(st.st_rdev), minor(st.st_rdev), major(st.st_dev), minor(st.st_dev),
          (unsigned long long)st.st_ino, (unsigned long)sfs.f_type, isatty(fd));
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: ttycheck REPORT MARKER TOKEN\n");
    return 2;
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  FILE *out = fopen(tmp, "w");
  if (!out) return 3;
  describe(out, "fd0", 0);
  describe(out, "fd1", 1);
  describe(out, "fd2", 2);
  // O_PATH: describes the file bound on /dev/console without opening a device
  int console = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
  describe(out, "console", console);
  struct stat m;
  if (stat(argv[2], &m) == 0) fprintf(out, "marker dev=%u:%u ino=%llu\n", major(m.st_dev), minor(m.st_dev), (unsigned long long)m.st_ino);
  else fprintf(out, "marker error=%s\n", strerror(errno));
  if (fclose(out) != 0 || rename(tmp, argv[1]) != 0) return 3;
  dprintf(1, "%s\n", argv[3]);
  return 0;
}
