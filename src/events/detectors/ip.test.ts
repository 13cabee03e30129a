import { describe, expect, it } from 'vitest';
import { detect } from '../detect.js';
import { detectAndMask } from '../mask.js';
import { guardActorId, guardAgentRecord } from '../privacyGuard.js';
import { fill, found } from '../../../test/support/detection.js';

const ips = (text: string): string[] => found(text).flatMap(([type, value]) => (type === 'IP_ADDRESS' ? [value] : []));

describe('IPv6 right after a label and a colon (the colon ends the label, not part of the address)', () => {
  it.each([
    ['inet6 addr:fe80::a00:27ff:fe4e:66a1/64 Scope:Link', 'fe80::a00:27ff:fe4e:66a1/64'],
    ['ip:2001:db8::1', '2001:db8::1'],
    ['IPv6:2001:db8::1', '2001:db8::1'],
    ['client:2001:db8::1 port:443', '2001:db8::1'],
    ['src_ip:2001:db8:85a3::8a2e:370:7334', '2001:db8:85a3::8a2e:370:7334'],
    ['x-real-ip:2001:db8::9', '2001:db8::9'],
    ['eth0:fe80::1', 'fe80::1'],
    ['addr:::1', '::1'],
    ['ip:::ffff:10.0.0.1', '::ffff:10.0.0.1'],
    ['added:2001:db8::1', '2001:db8::1'],
  ])('finds the address in %j', (text, ip) => {
    expect(ips(text)).toEqual([ip]);
  });

  it('finds both mechanisms of an SPF record', () => {
    expect(ips('v=spf1 ip6:2001:db8::/32 ip4:192.0.2.0/24 -all')).toEqual(['2001:db8::/32', '192.0.2.0']);
  });

  it('keeps a word that could be a group as part of a valid address', () => {
    expect(ips('cafe:2001:db8::1')).toEqual(['cafe:2001:db8::1']);
  });

  it('takes no scope, time, MAC or port after a label for an address', () => {
    for (const text of [
      'std::vector, Foo::bar, crate::add::face, self::add, super::dead',
      'time:12:34:56 and at:12:30 and T12:34:56.789',
      'mac:00:1a:2b:3c:4d:5e ether:00:1A:2B:3C:4D:5E',
      'port:443 Scope:Link host:80 https://example.com:8443/x',
      'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'key:dead::beef and added::1',
    ]) {
      expect(ips(text), text).toEqual([]);
    }
  });
});

describe('dotted quads that are version numbers', () => {
  it.each([
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0',
    'Edg/120.0.0.0',
    '(HeadlessChrome/120.0.0.0)',
    "Could not load file or assembly 'Newtonsoft.Json, Version=13.0.0.0, Culture=neutral, PublicKeyToken=30ad4fe6b2a6aeed'",
    '<bindingRedirect oldVersion="0.0.0.0-13.0.0.0" newVersion="13.0.0.0" />',
    '[assembly: AssemblyVersion("1.0.0.0")]',
    'System.Runtime.CompilerServices.Unsafe, Version=4.0.4.1, Culture=neutral',
    '<FileVersion>1.0.0.0</FileVersion> "version": "1.0.0.0" APP_VERSION=1.2.3.4',
    'ProductVersion   : 1.0.0.0',
    'Sec-CH-UA-Full-Version-List: "Not_A Brand";v="8.0.0.0", "Chromium";v="120.0.6099.216"',
    // A review's summaries: a version, a standard's section or requirement, an OID after its word.
    'Agent version 1.0.0.0 masked EMAIL.',
    'Detected on Version 2.4.1.0; masked SSN.',
    'Rule for PCI DSS requirement 10.2.1.4 matched',
    'OID 1.3.6.1 matched',
  ])('reports nothing in %j', (text) => {
    expect(ips(text)).toEqual([]);
  });

  it.each([
    ['server 10.0.0.1', '10.0.0.1'],
    ['http://10.0.0.1/', '10.0.0.1'],
    ['GET /api/hosts/10.0.0.1 HTTP/1.1', '10.0.0.1'],
    ['host=10.0.0.1', '10.0.0.1'],
    ['via proxy 10.0.0.1', '10.0.0.1'],
    ['X-Forwarded-For: 203.0.113.7', '203.0.113.7'],
    ['IP:192.168.1.1', '192.168.1.1'],
    // Java prints a host and its address so; Squid its hierarchy code and the peer's address.
    ['Connection refused: localhost/127.0.0.1:8080', '127.0.0.1'],
    ['Connection to node 1 (kafka-1/10.0.0.12:9092) could not be established', '10.0.0.12'],
    ['host DESKTOP-7K3L2M/10.0.0.5 up', '10.0.0.5'],
    ['InetAddress Johns-MacBook-Pro.local/192.168.1.10', '192.168.1.10'],
    ['connected to MyServer/10.0.0.1:8080', '10.0.0.1'],
    // A host typed capitalized, without a port (InetAddress.toString()), and a resolver list: only a
    // reduced user agent's "N.0.0.0" after a product token is a version.
    ['java.net.NoRouteToHostException: No route to host: Mailhost/10.0.0.25', '10.0.0.25'],
    ['upstream: Backend/10.0.0.8', '10.0.0.8'],
    ['Primary DNS: Cloudflare/1.1.1.1', '1.1.1.1'],
    ['TCP_MISS/200 1234 GET http://example.com/ - HIER_DIRECT/93.184.216.34 text/html', '93.184.216.34'],
    ['TCP_MISS/200 1234 GET http://example.com/ - DIRECT/93.184.216.34 text/html', '93.184.216.34'],
    ['conversion=10.0.0.1', '10.0.0.1'],
    ['ip_version=4 src=10.0.0.1', '10.0.0.1'],
    // Only right after the word: an address later in the sentence is one.
    ['version 2 of the agent on 10.0.0.1', '10.0.0.1'],
    ['Section 3 names host 10.0.0.7', '10.0.0.7'],
    ['Firewall section 10.20.30.40 denied', '10.20.30.40'],
    ['conversion 10.0.0.1', '10.0.0.1'],
  ])('still finds the address in %j', (text, ip) => {
    expect(ips(text)).toEqual([ip]);
  });

  it('finds the client address of an access log line and not the browser version', () => {
    const line =
      '203.0.113.7 - - [03/Dec/2026:08:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"';
    expect(ips(line)).toEqual(['203.0.113.7']);
  });
});

describe('address-shaped text that is something else', () => {
  it.each([
    'db::add',
    'ace::face',
    'Ab::Cd',
    'Fe::B',
    'dead::beef',
    'a::b',
    'std::vector, boost::asio::ip::tcp, Vec::<u8>::new(), a::b::c',
    'wwn 50:06:01:60:3b:20:12:34',
    'eui64 02:42:ac:ff:fe:11:00:02',
    'wwn:50:06:01:60:3b:20:12:34',
  ])('reports nothing in %j', (text) => {
    expect(ips(text)).toEqual([]);
  });

  it.each([
    'fe80::',
    'ff02::1',
    '2001:db8::',
    '::ffff:10.0.0.1',
    '::ffff',
    'fd00::1',
    '64:ff9b::192.0.2.1',
    'dead::/16',
    '0:0:0:0:0:0:0:1',
    'aaaa:bbbb:cccc:dddd:eeee:ffff:aaaa:bbbb',
    // A netmask, as os.networkInterfaces() prints it: a single colon makes it no scope.
    'ffff:ffff:ffff:ffff::',
    'dead:beef::',
  ])('still finds %j', (ip) => {
    expect(ips(`host ${ip} up`)).toEqual([ip]);
  });
});

describe('linear time on adversarial 1 MiB inputs', () => {
  it.each([
    ['labels before hex runs', fill('g:ab:'), []],
    ['labels before double colons', fill('x:::a'), []],
    ['long hex labels', fill('abcdef:1:'), []],
    // A quad other than N.0.0.0 after a product token is an address (only a reduced agent's is a version).
    ['product tokens', fill('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/1.1.1.1 '), ['IP_ADDRESS']],
    ['version names', fill('Version="1.1.1.1-'), []],
    ['padded version names', fill(`version${' '.repeat(15)}=1.1.1.1 `), []],
    ['eight octets', fill('ab:'), []],
    ['labelled eight octets', fill('w:50:06:01:60:3b:20:12:34 '), []],
  ] as const)('%s completes, with what it holds', (_name, text, types) => {
    expect([...new Set(detect(text).map((f) => f.type))]).toEqual(types);
  });
});

describe("addresses in Markdown's emphasis (underscores), as turndown and Slack write italics and bold", () => {
  it.each([
    ['Blocked _10.0.0.5_ at the edge', '10.0.0.5'],
    ['**host** __192.168.1.20__', '192.168.1.20'],
    ['___172.16.0.9___', '172.16.0.9'],
    ['peer _fe80::1_ lost', 'fe80::1'],
    ['__2001:db8::1__', '2001:db8::1'],
  ])('finds the address in %j', (text, ip) => {
    expect(ips(text)).toEqual([ip]);
  });

  it.each(['ip_10.0.0.5', 'a__10.0.0.5', '10.0.0.5_x', 'x _10.0.0.5_y', 'x_fe80::1', 'fe80::1_x', 'subnet_10_0_0_0', 'v_1.2.3.4'])(
    'an underscore that glues the address to a word leaves it alone: %j',
    (text) => {
      expect(ips(text)).toEqual([]);
    },
  );
});

// Cloud providers name hosts after their address: AWS's private DNS ("ip-10-1-2-3.ec2.internal"), its
// public DNS ("ec2-54-12-34-56.compute-1.amazonaws.com") and Windows' IPv6 literal names
// ("2001-db8--1.ipv6-literal.net", where a UNC path cannot hold a colon). The address is the host.
describe('addresses spelled as DNS labels of cloud host names', () => {
  it.each([
    ['Masked IP_ADDRESS on ip-10-1-2-3.ec2.internal', '10-1-2-3'],
    ['svc IP-10-1-2-3.EC2.INTERNAL', '10-1-2-3'],
    ['ec2-54-12-34-56.compute-1.amazonaws.com', '54-12-34-56'],
    ['node IP-172-31-255-0.us-west-2.compute.internal Ready', '172-31-255-0'],
    ['host EC2-3-250-1-9 up', '3-250-1-9'],
    ['ip-10-1-2-3', '10-1-2-3'],
    ['(ip-10-0-0-1)', '10-0-0-1'],
    ['pflt ip-10-1-2-3', '10-1-2-3'],
    ['pflt_ip-10-1-2-3', '10-1-2-3'],
    ['nodes: ip-192-168-0-1, ip-192-168-0-2', '192-168-0-1'],
    ['\\\\2001-db8--1.ipv6-literal.net\\share', '2001-db8--1'],
    ['ping fe80--1s4.IPV6-LITERAL.NET now', 'fe80--1s4'],
    // Internet providers' names for a customer's line (a review's).
    ['from c-73-202-15-4.hsd1.ca.comcast.net', '73-202-15-4'],
    ['host-203-0-113-7.example.net', '203-0-113-7'],
    ['pool-71-105-12-34.nycmny.fios.verizon.net', '71-105-12-34'],
    ['cpe-74-72-1-2.nyc.res.rr.com', '74-72-1-2'],
    ['Static-198-51-100-9.Example.Net', '198-51-100-9'],
  ])('finds the address in %j', (text, ip) => {
    expect(ips(text)[0]).toBe(ip);
  });

  it('leaves an e-mail address on such a host to the address detector (the guard scans its domain)', () => {
    expect(found('from svc@ip-10-1-2-3.ec2.internal')).toEqual([['EMAIL', 'svc@ip-10-1-2-3.ec2.internal']]);
  });

  it('masks the address and keeps the host name around it', () => {
    expect(detectAndMask('Masked IP_ADDRESS on ip-10-1-2-3.ec2.internal').masked).toBe('Masked IP_ADDRESS on ip-[IP_ADDRESS].ec2.internal');
    expect(detectAndMask('via 2001-db8--1.ipv6-literal.net').masked).toBe('via [IP_ADDRESS].ipv6-literal.net');
  });

  it.each([
    'release 1-2-3-4 on 2026-05-15-10',
    'ip-256-1-2-3 ip-1-2-3 ip-10-1-2-3-4 ip-10-1-2-3x ip-01-2-3-4',
    'ship-10-1-2-3 zip-10-1-2-3 vip-10-1-2-3 myec2-10-1-2-3',
    'ip--10-1-2-3 ip_10-1-2-3 ec2-10-1-2',
    '2024-05-15.ipv6-literal.net and cafe.ipv6-literal.net',
    // A provider's word without a domain after it, or a word that names no line.
    'host-1-2-3-4 built; c-1-2-3-4; static-10-0-0-1, pool-1-2-3-4.',
    'release-1-2-3-4.tar.gz abc-10-1-2-3.example.com host-1-2-3.example.com',
  ])('reports nothing in %j', (text) => {
    expect(ips(text)).toEqual([]);
  });

  it('refuses them in a decision record\'s fields (the guard\'s identifier form reads "_" as a space)', () => {
    expect(guardActorId('svc@ip-10-1-2-3.ec2.internal').map((v) => v.message)).toEqual([expect.stringContaining('IP_ADDRESS')]);
    for (const record of [
      { summary: 'Masked IP_ADDRESS on ip-10-1-2-3.ec2.internal' },
      { summary: 'ok on ec2-54-12-34-56.compute-1.amazonaws.com' },
      { summary: 'Masked EMAIL from c-73-202-15-4.hsd1.ca.comcast.net' },
      { actor_id: 'host-203-0-113-7.example.net' },
      { policy_id: 'ip-10-1-2-3' },
      { preflight_id: 'pflt_ip-10-1-2-3' },
      { destination: '2001-db8--1.ipv6-literal.net' },
    ]) {
      expect(guardAgentRecord(record), JSON.stringify(record)).toEqual([
        { path: `/${Object.keys(record)[0]}`, message: expect.stringContaining('IP_ADDRESS') },
      ]);
    }
  });

  describe('linear time on adversarial 1 MiB inputs', () => {
    it.each([
      ['ip-1-1-1-', []],
      ['ec2-1-1-1-', []],
      ['ip-1-', []],
      ['ip-1-1-1-1-', ['IP_ADDRESS']],
      ['a-', []],
      ['1-1--1.ipv6-literal.ne', []],
      ['ip-1-1-1-1.', ['IP_ADDRESS']],
    ] as const)('%j repeated completes', (unit, types) => {
      expect([...new Set(detect(fill(unit)).map((f) => f.type))]).toEqual(types);
    });
  });
});

// The unspecified address and the limited broadcast address name no host, so no person: an attacker
// review found "allow 0.0.0.0/0" (every firewall rule, aws cli's CidrIp) refused as personal data.
describe('0.0.0.0 and 255.255.255.255 are no one’s address', () => {
  it.each(['{"CidrIp": "0.0.0.0/0"}', 'listen 0.0.0.0:8080', 'Blocked ingress 0.0.0.0/0 on sg-0abc', 'route add 255.255.255.255 dev eth0'])(
    'stays as written: %s',
    (text) => {
      expect(ips(text)).toEqual([]);
      expect(detectAndMask(text).masked).toBe(text);
      expect(guardAgentRecord({ preflight_id: 'pf_1', decision: 'BLOCKED', policy_id: 'pol_default', policy_version: 'v1', summary: text })).toEqual([]);
    },
  );

  it('still finds an address beside them, and ones that only look alike', () => {
    expect(ips('allow 0.0.0.0/0 from 203.0.113.7')).toEqual(['203.0.113.7']);
    expect(ips('host 0.0.0.1 and 10.0.0.0 and 255.255.255.0')).toEqual(['0.0.0.1', '10.0.0.0', '255.255.255.0']);
  });
});
