// fds: the file descriptors the container process was given (CVE-2024-21626
// class: whatever the runtime leaks, a container can chdir or read through).
// One line per open fd except the directory fd used to list them:
//   fd=N dev=D ino=I link=TARGET
// then "fds end". dev is the device number as stat(2) gives it, the same
// number Node's fs.statSync reports, so the test can tell the caller's files.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) {
    perror("opendir /proc/self/fd");
    return 1;
  }
  int self = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == self) continue;
    char path[64], link[4096] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n >= 0) link[n] = 0;
    struct stat st;
    if (fstat(fd, &st) == 0)
      printf("fd=%d dev=%llu ino=%llu link=%s\n", fd, (unsigned long long)st.st_dev, (unsigned long long)st.st_ino, link);
    else
      printf("fd=%d dev=? ino=? link=%s\n", fd, link);
  }
  closedir(d);
  printf("fds end\n");
  return 0;
}
