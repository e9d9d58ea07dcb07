// A createContainer hook for mount-race.test.js: `mountinfo-dump FILE` copies
// /proc/self/mountinfo to FILE. The runtime runs the hook in the container's
// mount namespace after it has made the mounts and before pivot_root, the only
// moment a mount that landed outside the rootfs is still there to be seen.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: mountinfo-dump FILE\n");
    return 2;
  }
  int in = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (in < 0 || out < 0) {
    perror("open");
    return 1;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(out, buf, n) != n) {
      perror("write");
      return 1;
    }
  }
  return n < 0 ? 1 : 0;
}
