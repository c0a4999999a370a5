import { isIPv6 } from 'node:net';

/**
 * Where a request comes from, for counting failed authentications: the address, except that an
 * IPv6 address counts as its /64 network — one host is usually given a whole /64, so counting
 * single IPv6 addresses would give it more addresses than it could ever use up.
 */
export function clientNetwork(ip: string | undefined): string {
  if (ip === undefined) {
    return 'unknown';
  }
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped !== null) {
    return mapped[1];
  }
  if (!isIPv6(ip)) {
    return ip;
  }
  const [head, tail = ''] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
