import { test } from "node:test";
import assert from "node:assert/strict";
import {
  broadcastOf,
  contains,
  formatIpv4,
  formatIpv4Prefix,
  netmask,
  networkOf,
  overlaps,
  parseIpv4,
  parseIpv4Prefix,
  parsePrefixLength,
} from "./ipv4";

test("a dotted quad becomes its unsigned 32-bit value and back", () => {
  assert.equal(parseIpv4("172.18.0.1"), 0xac120001);
  assert.equal(parseIpv4("0.0.0.0"), 0);
  assert.equal(parseIpv4("255.255.255.255"), 0xffffffff);
  assert.equal(formatIpv4(0xac120001), "172.18.0.1");
  assert.equal(formatIpv4(0xffffffff), "255.255.255.255");
  assert.equal(formatIpv4(0), "0.0.0.0");
});

test("a dotted quad with leading zeros, spaces, signs, a missing or extra octet, or an octet over 255 is refused", () => {
  for (const text of ["01.2.3.4", "1.2.3.04", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1. 2.3.4", "+1.2.3.4", "-1.2.3.4",
    "1.2.3", "1.2.3.4.5", "1.2.3.", "256.0.0.1", "1.2.3.999", "1.2.3.0x1", "", "1..2.3", "1e2.0.0.1"]) {
    assert.equal(parseIpv4(text), undefined, text);
  }
});

test("a prefix length is a plain decimal from 0 to 32", () => {
  assert.equal(parsePrefixLength("0"), 0);
  assert.equal(parsePrefixLength("24"), 24);
  assert.equal(parsePrefixLength("32"), 32);
  for (const text of ["33", "024", "-1", "", " 24", "2.4", "100"]) assert.equal(parsePrefixLength(text), undefined, text);
});

test("an address with a prefix needs both halves strict", () => {
  assert.deepEqual(parseIpv4Prefix("192.168.22.10/24"), { address: 0xc0a8160a, prefix: 24 });
  for (const text of ["192.168.22.10", "192.168.22.10/", "/24", "192.168.22.10/33", "192.168.22.010/24", "192.168.22.10/24/1"]) {
    assert.equal(parseIpv4Prefix(text), undefined, text);
  }
  assert.equal(formatIpv4Prefix({ address: 0xc0a8160a, prefix: 24 }), "192.168.22.10/24");
});

test("netmasks cover /0 and /32, where a 32-bit shift would wrap", () => {
  assert.equal(netmask(0), 0);
  assert.equal(netmask(1), 0x80000000);
  assert.equal(netmask(24), 0xffffff00);
  assert.equal(netmask(32), 0xffffffff);
});

test("network and broadcast addresses of a prefix", () => {
  const block = { address: parseIpv4("172.18.0.5")!, prefix: 24 };
  assert.equal(formatIpv4(networkOf(block)), "172.18.0.0");
  assert.equal(formatIpv4(broadcastOf(block)), "172.18.0.255");
  assert.equal(formatIpv4(networkOf({ address: 0xffffffff, prefix: 0 })), "0.0.0.0");
  assert.equal(formatIpv4(broadcastOf({ address: 0, prefix: 0 })), "255.255.255.255");
  assert.equal(formatIpv4(networkOf({ address: parseIpv4("10.1.2.3")!, prefix: 32 })), "10.1.2.3");
  assert.equal(formatIpv4(broadcastOf({ address: parseIpv4("10.1.2.3")!, prefix: 32 })), "10.1.2.3");
  assert.equal(formatIpv4(broadcastOf({ address: parseIpv4("172.16.0.0")!, prefix: 14 })), "172.19.255.255");
});

test("contains is true exactly from the network to the broadcast address", () => {
  const block = { address: parseIpv4("172.18.0.0")!, prefix: 24 };
  assert.equal(contains(block, parseIpv4("172.18.0.0")!), true);
  assert.equal(contains(block, parseIpv4("172.18.0.255")!), true);
  assert.equal(contains(block, parseIpv4("172.17.255.255")!), false);
  assert.equal(contains(block, parseIpv4("172.18.1.0")!), false);
  assert.equal(contains({ address: 0, prefix: 0 }, 0xffffffff), true);
});

test("overlaps is true when one prefix holds the other or both are the same, false for neighbours", () => {
  const a = { address: parseIpv4("172.18.0.0")!, prefix: 24 };
  assert.equal(overlaps(a, { address: parseIpv4("172.16.0.0")!, prefix: 14 }), true);
  assert.equal(overlaps({ address: parseIpv4("172.16.0.0")!, prefix: 14 }, a), true);
  assert.equal(overlaps(a, a), true);
  assert.equal(overlaps(a, { address: parseIpv4("172.18.0.128")!, prefix: 25 }), true);
  assert.equal(overlaps(a, { address: parseIpv4("172.19.0.0")!, prefix: 24 }), false);
  assert.equal(overlaps(a, { address: parseIpv4("172.17.255.252")!, prefix: 30 }), false);
});
