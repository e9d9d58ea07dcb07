/* Probes what a seccomp filter answers, one line per request on stdout
 * (flushed at once, so the lines before a SIGSYS are not lost):
 *   NR           a raw syscall(NR) with zero arguments: "NR <result>", the
 *                return value or -errno (raw, so libc never hides an ENOSYS)
 *   i386:NR      the same through the 32-bit entry (int $0x80), as an i386
 *                process makes it: "i386:NR <result>"
 *   thread       pthread_create, which glibc tries with clone3 and retries
 *                with clone only on ENOSYS: "thread ok" or "thread <errno>"
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static void *nothing(void *arg) { return arg; }

static long i386_syscall(long nr) {
#if defined(__x86_64__)
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(0), "c"(0), "d"(0), "S"(0), "D"(0) : "memory");
  return ret;
#else
  (void)nr;
  return -ENOSYS;
#endif
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "thread") == 0) {
      pthread_t t;
      int rc = pthread_create(&t, NULL, nothing, NULL);
      if (rc == 0) rc = pthread_join(t, NULL);
      if (rc == 0) printf("thread ok\n");
      else printf("thread %d\n", rc);
    } else if (strncmp(argv[i], "i386:", 5) == 0) {
      printf("%s %ld\n", argv[i], i386_syscall(strtol(argv[i] + 5, NULL, 0)));
    } else {
      long nr = strtol(argv[i], NULL, 0);
      long r = syscall(nr, 0, 0, 0, 0, 0, 0);
      printf("%ld %ld\n", nr, r < 0 ? -(long)errno : r);
    }
  }
  return 0;
}
