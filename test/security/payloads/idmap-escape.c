// idmap-escape: a container root with every capability in its user namespace
// tries to get more out of its idmapped mounts than their mappings give.
//   /idmap-escape IDMAPPED OWNMAPPED PLAIN
// IDMAPPED is an idmapped mount with the container's mapping, OWNMAPPED one
// with a narrower mapping of its own, PLAIN a plain bind of the host's
// filesystem. Each attempt prints one line "NAME=ok" (it worked: the attack
// succeeded) or "NAME=errno E (text)"; then "idmap-escape end".
//   fds          an fd other than stdio (a runtime's mount tree or user namespace)
//   clear        mount_setattr clearing MOUNT_ATTR_IDMAP on IDMAPPED
//   remap        an open_tree copy of IDMAPPED given the container's own user namespace
//   plain        an open_tree copy of PLAIN (the host's filesystem) idmapped by the container
//   unmapped-w   writing IDMAPPED/far.txt, on-disk owner outside the container's mapping
//   own-root-w   writing OWNMAPPED/root.txt, on-disk root, outside that mount's mapping
//   own-chown    chown of OWNMAPPED/mine.txt to uid 5, outside that mount's mapping
//   own-create   a file made in OWNMAPPED: prints its owner as seen inside (the host checks the disk)
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define OPEN_TREE_CLONE_ 1
#define OPEN_TREE_CLOEXEC_ O_CLOEXEC
#define AT_RECURSIVE_ 0x8000
#define MOUNT_ATTR_IDMAP_ 0x00100000ULL

struct mount_attr_ {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static void report(const char *name, int r) {
  if (r >= 0) printf("%s=ok\n", name);
  else printf("%s=errno %d (%s)\n", name, errno, strerror(errno));
}

static int setattr(int fd, const char *path, unsigned flags, struct mount_attr_ *a) {
  return (int)syscall(SYS_mount_setattr, fd, path, flags, a, sizeof *a);
}

/* an open_tree copy of `path` idmapped through our own user namespace */
static int idmap_copy(const char *path) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE_ | OPEN_TREE_CLOEXEC_ | AT_RECURSIVE_);
  if (tree < 0) return -1;
  int ns = open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);
  if (ns < 0) return -1;
  struct mount_attr_ a = {.attr_set = MOUNT_ATTR_IDMAP_, .userns_fd = (uint64_t)ns};
  int r = setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE_, &a);
  int e = errno;
  close(ns);
  close(tree);
  errno = e;
  return r;
}

static int write_to(const char *path) {
  int fd = open(path, O_WRONLY | O_APPEND);
  if (fd < 0) return -1;
  int r = (int)write(fd, "attack\n", 7);
  close(fd);
  return r;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s IDMAPPED OWNMAPPED PLAIN\n", argv[0]);
    return 2;
  }
  char p[4096];
  DIR *d = opendir("/proc/self/fd");
  int extra = 0;
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      int fd = atoi(e->d_name);
      if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d)) continue;
      char link[4096] = "";
      snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
      ssize_t n = readlink(p, link, sizeof link - 1);
      if (n >= 0) link[n] = 0;
      printf("fds=ok fd %d -> %s\n", fd, link);
      extra++;
    }
    closedir(d);
  }
  if (!extra) printf("fds=none\n");

  struct mount_attr_ clr = {.attr_clr = MOUNT_ATTR_IDMAP_};
  report("clear", setattr(AT_FDCWD, argv[1], 0, &clr));
  report("remap", idmap_copy(argv[1]));
  report("plain", idmap_copy(argv[3]));
  snprintf(p, sizeof p, "%s/far.txt", argv[1]);
  report("unmapped-w", write_to(p));
  snprintf(p, sizeof p, "%s/root.txt", argv[2]);
  report("own-root-w", write_to(p));
  snprintf(p, sizeof p, "%s/mine.txt", argv[2]);
  report("own-chown", chown(p, 5, 5));
  snprintf(p, sizeof p, "%s/made.txt", argv[2]);
  int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0) printf("own-create=%u:%u\n", st.st_uid, st.st_gid);
  else report("own-create", -1);
  printf("idmap-escape end\n");
  return 0;
}
