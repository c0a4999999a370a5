import { clientNetwork } from './client-network';

describe('clientNetwork', () => {
  it('keeps IPv4 addresses, unmapping IPv4-mapped IPv6 ones', () => {
    expect(clientNetwork('10.1.2.3')).toBe('10.1.2.3');
    expect(clientNetwork('::ffff:10.1.2.3')).toBe('10.1.2.3');
  });

  it('counts an IPv6 address as its /64, however it is written', () => {
    expect(clientNetwork('2001:db8:0:1::1')).toBe('2001:db8:0:1::/64');
    expect(clientNetwork('2001:0db8:0000:0001:ffff:1:2:3')).toBe('2001:db8:0:1::/64');
    expect(clientNetwork('2001:db8::')).toBe('2001:db8:0:0::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
  });

  it('names an unknown address', () => {
    expect(clientNetwork(undefined)).toBe('unknown');
  });
});
