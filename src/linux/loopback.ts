// A new network namespace starts with "lo" down; runc brings it up, and
// programs expect 127.0.0.1 to work.
import * as sys from './sys';
import { lib } from './ffi';

const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;

export function bringUpLoopback(): void {
  const fd = lib().socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | 0o2000000 /* SOCK_CLOEXEC */, 0);
  if (fd < 0) throw new Error('cannot bring up lo: socket(AF_INET) failed');
  try {
    // struct ifreq: char ifr_name[16]; short ifr_flags; (40 bytes in all)
    const ifr = Buffer.alloc(40);
    ifr.write('lo', 0);
    sys.ioctlPtr(fd, SIOCGIFFLAGS, ifr, 'SIOCGIFFLAGS lo');
    ifr.writeInt16LE(ifr.readInt16LE(16) | IFF_UP, 16);
    sys.ioctlPtr(fd, SIOCSIFFLAGS, ifr, 'SIOCSIFFLAGS lo up');
  } finally {
    sys.close(fd);
  }
}
