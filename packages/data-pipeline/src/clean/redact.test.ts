import { describe, expect, it } from 'vitest';
import { redactPii } from './index.js';

describe('redactPii', () => {
  it.each([
    ['Mail john.doe+news@mail.example.co.uk today.', 'Mail <EMAIL> today.', 'email'],
    ['contact: a_b@x.io', 'contact: <EMAIL>', 'email'],
    [
      'Server 192.168.1.254, gateway 10.0.0.1.',
      'Server <IP_ADDRESS>, gateway <IP_ADDRESS>.',
      'ipv4',
    ],
    ['v6 2001:db8::8a2e:370:7334 here', 'v6 <IP_ADDRESS> here', 'ipv6'],
    ['loopback ::1.', 'loopback <IP_ADDRESS>.', 'ipv6'],
    ['mapped ::ffff:192.0.2.128 too', 'mapped <IP_ADDRESS> too', 'ipv6'],
    ['full fe80:0000:0000:0000:0204:61ff:fe9d:f156', 'full <IP_ADDRESS>', 'ipv6'],
    ['Call (555) 123-4567 now', 'Call <PHONE> now', 'phone'],
    ['or 555-123-4567, or 555.123.4567', 'or <PHONE>, or <PHONE>', 'phone'],
    ['London +44 20 7946 0958', 'London <PHONE>', 'phone'],
    ['Paris +33 1 42 68 53 00.', 'Paris <PHONE>.', 'phone'],
  ] as const)('redacts %j', (input, expected, kind) => {
    const { text, counts } = redactPii(input);
    expect(text).toBe(expected);
    expect(counts[kind]).toBeGreaterThan(0);
  });

  it.each([
    'Version 1.2.3 and 999.1.1.1 are not addresses',
    'The meeting ran 10:30:45 and the ratio was 3:2',
    'Born 1961-62, filed 2021-03-04, ISBN 978-3-16-148410-0',
    'We sold 1,234,567 units for $12.50',
    'an @ sign alone, user@localhost is not a domain',
  ])('leaves %j alone', (input) => {
    const { text, counts } = redactPii(input);
    expect(text).toBe(input);
    expect(Object.values(counts).every((c) => c === 0)).toBe(true);
  });

  it('honours kinds and replacements', () => {
    const input = 'ann@example.com at 10.1.2.3';
    expect(redactPii(input, { kinds: ['ipv4'] }).text).toBe('ann@example.com at <IP_ADDRESS>');
    expect(redactPii(input, { replacements: { email: '[email]' } }).text).toBe(
      '[email] at <IP_ADDRESS>',
    );
    expect(() => redactPii(input, { kinds: ['ssn' as never] })).toThrow(/options.kinds has "ssn"/);
  });
});
