import { describe, expect, it } from 'vitest';
import { isForbiddenAddress } from './addresses.js';

describe('isForbiddenAddress: IPv4', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.0.1', 'link-local'],
    ['169.254.255.255', 'link-local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['192.88.99.1', 'reserved'],
    ['192.168.1.1', 'private'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.200', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['254.1.1.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
  ])('%s is %s', (ip, reason) => {
    expect(isForbiddenAddress(ip)).toBe(reason);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '192.0.1.1',
    '192.169.0.1',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '52.94.236.248',
  ])('%s is public', (ip) => {
    expect(isForbiddenAddress(ip)).toBeNull();
  });
});

describe('isForbiddenAddress: IPv6', () => {
  it.each([
    ['::', 'unspecified'],
    ['0:0:0:0:0:0:0:0', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', 'loopback'],
    ['fc00::1', 'unique-local'],
    ['fdff:ffff::1', 'unique-local'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['ff05::1:3', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['100::1', 'reserved'],
    ['100::ffff:ffff:ffff:ffff', 'reserved'],
    ['4000::1', 'reserved'],
    // IPv4-mapped, dotted and hex forms.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:ffff:7f00:0001', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:a01:203', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:192.168.0.1', 'private'],
    ['::ffff:0.0.0.0', 'unspecified'],
    // IPv4-translated (SIIT).
    ['::ffff:0:127.0.0.1', 'loopback'],
    // IPv4-compatible (deprecated).
    ['::127.0.0.1', 'loopback'],
    ['::a00:1', 'private'],
    // NAT64.
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::c0a8:101', 'private'],
    ['64:ff9b:1::a00:1', 'private'],
    ['64:ff9b:1::808:808', 'nat64-local'],
    // 6to4.
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a00:1::', 'private'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2002:c0a8:101::1', 'private'],
    // Teredo: server IPv4 in groups 2-3, client IPv4 inverted in groups 6-7.
    ['2001:0:7f00:1::1', 'loopback'],
    ['2001:0:808:808::f5ff:fffe', 'private'], // client 10.0.0.1 inverted
    ['2001:0:808:808:0:0:80ff:fffe', 'loopback'], // client 127.0.0.1 inverted
  ])('%s is %s', (ip, reason) => {
    expect(isForbiddenAddress(ip)).toBe(reason);
  });

  it.each([
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450:4001:82b::200e',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '64:ff9b::808:808',
    '2002:808:808::1',
    '2001:0:808:808::f7f7:f7f7', // Teredo, server 8.8.8.8, client 8.8.8.8
  ])('%s is public', (ip) => {
    expect(isForbiddenAddress(ip)).toBeNull();
  });
});

describe('isForbiddenAddress: not an address', () => {
  it.each(['', 'localhost', 'example.com', '1.2.3', '256.1.1.1', '::ffff:1.2.3.256', '1::2::3', '127.0.0.1%lo'])('%j is invalid', (ip) => {
    expect(isForbiddenAddress(ip)).toBe('invalid');
  });
});
