// cwd: where the container process really is (CVE-2024-21626 class).
//   cwd MARKER [hold]
// Prints the kernel's getcwd (a cwd outside the process's root reads
// "(unreachable)/..."; glibc's getcwd would hide that behind ENOENT), whether
// MARKER (a file that exists only on the host, beside the runtime's state)
// is reachable by climbing "..", and the first names in "..". With "hold" it
// then waits to be killed, so the test can read /proc/<pid>/cwd from the host.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: cwd MARKER [hold]\n");
    return 2;
  }
  char buf[4096];
  long n = syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0) printf("cwd=E%d\n", errno);
  else printf("cwd=%s\n", buf);
  char path[4096] = "";
  const char *found = NULL;
  for (int depth = 0; depth < 16 && !found; depth++) {
    char candidate[4200];
    snprintf(candidate, sizeof candidate, "%s%s", path, argv[1]);
    struct stat st;
    if (stat(candidate, &st) == 0) found = candidate, printf("marker=found:%s\n", candidate);
    strcat(path, "../");
  }
  if (!found) printf("marker=none\n");
  printf("dotdot=");
  DIR *d = opendir("..");
  if (d) {
    struct dirent *e;
    int i = 0;
    while ((e = readdir(d)) && i < 30) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      printf("%s%s", i++ ? "," : "", e->d_name);
    }
    closedir(d);
  } else {
    printf("E%d", errno);
  }
  printf("\n");
  if (argc > 2 && !strcmp(argv[2], "hold")) {
    printf("holding\n");
    fflush(stdout);
    for (;;) pause();
  }
  return 0;
}
