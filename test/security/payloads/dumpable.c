// dumpable: the container process says whether it is dumpable after execve.
// A runtime that makes its stages non-dumpable must not leave the user's
// process that way (execve of a plain binary resets it to 1; runc's too).
#include <stdio.h>
#include <sys/prctl.h>

int main(void) {
  printf("dumpable=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
  return 0;
}
