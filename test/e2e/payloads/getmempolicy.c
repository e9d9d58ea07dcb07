/* Prints this process's NUMA memory policy as get_mempolicy(2) reports it:
 * "mode=<mode> flags=<hex mode flags> nodes=<list>", the mode without its
 * flags, the node mask as a list ("0-3" as "0,1,2,3"). Static: it runs in a
 * busybox rootfs. Exit 1 when get_mempolicy fails. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

#define MAX_NODES 1024
#define MODE_FLAGS ((1 << 15) | (1 << 14) | (1 << 13))

int main(void) {
	int mode = -1;
	unsigned long mask[MAX_NODES / (8 * sizeof(unsigned long))];
	memset(mask, 0, sizeof(mask));
	if (syscall(SYS_get_mempolicy, &mode, mask, MAX_NODES + 1, NULL, 0) != 0) {
		perror("get_mempolicy");
		return 1;
	}
	printf("mode=%d flags=0x%x nodes=", mode & ~MODE_FLAGS, mode & MODE_FLAGS);
	int first = 1;
	for (int n = 0; n < MAX_NODES; n++) {
		if (mask[n / (8 * sizeof(unsigned long))] & (1UL << (n % (8 * sizeof(unsigned long))))) {
			printf(first ? "%d" : ",%d", n);
			first = 0;
		}
	}
	printf("\n");
	return 0;
}
