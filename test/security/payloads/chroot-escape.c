/* The classic chroot escape, from inside a container: chroot into a
 * subdirectory while the cwd stays where it is (outside the new root), climb
 * ".." far more often than any tree is deep, chroot("."), and look for a
 * marker file that exists only on the host (argv[1]). Under --no-pivot the
 * container's root is a chroot: the climb must end in the rootfs, covered
 * by nothing of the host. Prints "marker=<found|none>" and the names of "/"
 * where it ended. Needs CAP_SYS_CHROOT. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  if (mkdir("/escape-dir", 0700) && errno != EEXIST) { perror("mkdir"); return 2; }
  if (chroot("/escape-dir")) { perror("chroot /escape-dir"); return 2; }
  for (int i = 0; i < 512; i++) chdir("..");
  if (chroot(".")) { perror("chroot ."); return 2; }
  printf("marker=%s\n", access(argv[1], F_OK) == 0 ? "found" : "none");
  printf("root=");
  DIR *d = opendir("/");
  struct dirent *e;
  while (d && (e = readdir(d))) printf("%s ", e->d_name);
  printf("\n");
  return 0;
}
