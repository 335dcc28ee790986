// The route guard against a real kernel: its verdict must equal what the kernel then does when the
// address is added (does `ip route get <client>` move onto the new link?).
import { test } from "node:test";
import assert from "node:assert/strict";
import { GUARD_ROUTE_BACK } from "./routeGuard";
import { buildScript } from "./scriptBuilder";
import { SAY, shellQuote } from "./shell";
import { sandboxUnavailableReason, withHostSandbox, type HostSandbox } from "../../testing/hostSandbox";

const skip = sandboxUnavailableReason();

function guardScript(device: string, cidr: string): string {
  return buildScript({
    title: "route guard test",
    values: [["DEVICE", device], ["CIDR", cidr]],
    uses: [GUARD_ROUTE_BACK, SAY],
    body: ["guard_route_back \"$DEVICE\" \"$CIDR\"", "say passed"],
  });
}

// Veths stand in for the links (this machine's kernel may lack dummy). The management side of the sandbox: the operator's SSH session arrives on mgmt0 (TEST-NET-2),
// a further operator network (TEST-NET-3) is routed through a neighbour; no default route.
const SETUP = [
  "ip link add mgmt0 type veth peer name mgmt0-peer",
  "ip link set mgmt0-peer up",
  "ip addr add 198.51.100.2/24 dev mgmt0",
  "ip link set mgmt0 up",
  "ip route add 203.0.113.0/24 via 198.51.100.1 dev mgmt0",
  "ip link add ens33.10 type veth peer name trunk-peer",
  "ip link set trunk-peer up",
  "ip link set ens33.10 up",
].join(" && ");

function routeDevice(box: HostSandbox, client: string): string {
  return box.exec(`ip -o route get ${client}`).match(/ dev (\S+)/)![1];
}

// `refused` differs from `moves` in one case: a route of equal length on the new link does not win
// now, but takes over as soon as the old link flaps, so the guard refuses it too.
const CASES: { client: string; cidr: string; moves: boolean; refused: boolean }[] = [
  { client: "198.51.100.1", cidr: "198.51.100.10/25", moves: true, refused: true },
  { client: "198.51.100.1", cidr: "198.51.100.10/24", moves: false, refused: true },
  { client: "198.51.100.1", cidr: "198.0.0.1/8", moves: false, refused: false },
  { client: "198.51.100.1", cidr: "192.168.22.10/24", moves: false, refused: false },
  { client: "203.0.113.5", cidr: "203.0.113.9/28", moves: true, refused: true },
  { client: "203.0.113.5", cidr: "203.0.112.1/23", moves: false, refused: false },
];

for (const { client, cidr, moves, refused } of CASES) {
  test(`adding ${cidr} with the SSH client at ${client}: the guard ${refused ? "stops" : "allows"} it; the kernel ${moves ? "moves" : "keeps"} the route`, { skip }, () =>
    withHostSandbox({}, (box) => {
      box.exec(SETUP);
      const before = routeDevice(box, client);
      const result = box.run(`SSH_CONNECTION=${shellQuote(`${client} 50022 198.51.100.2 22`)} sh -c ${shellQuote(guardScript("ens33.10", cidr))}`);
      box.exec(`ip addr add ${cidr} dev ens33.10`);
      const after = routeDevice(box, client);
      assert.equal(after !== before, moves, `kernel: route to ${client} via ${before} then ${after}`);
      if (refused) {
        assert.equal(result.status, 1);
        assert.equal(result.stdout, "");
        assert.match(
          result.stderr,
          new RegExp(`^error: ens33\\.10: adding ${cidr.replace(/\./g, "\\.")} would move the route back to this SSH session's client ${client.replace(/\./g, "\\.")} onto ens33\\.10 \\(now via mgmt0, /24\\) and cut the connection; nothing was changed on ens33\\.10\\n$`),
        );
      } else {
        assert.deepEqual([result.status, result.stdout, result.stderr], [0, "passed\n", ""]);
      }
    }),
  );
}

test("without an SSH session (a boot unit) or when the route is already on the link, the guard allows", { skip }, () =>
  withHostSandbox({}, (box) => {
    box.exec(SETUP);
    assert.equal(box.exec(`env -u SSH_CONNECTION sh -c ${shellQuote(guardScript("ens33.10", "198.51.100.10/25"))}`), "passed\n");
    assert.equal(
      box.exec(`SSH_CONNECTION='198.51.100.1 50022 198.51.100.2 22' sh -c ${shellQuote(guardScript("mgmt0", "198.51.100.3/25"))}`),
      "passed\n",
    );
    assert.equal(
      box.exec(`SSH_CONNECTION='2001:db8::1 50022 2001:db8::2 22' sh -c ${shellQuote(guardScript("ens33.10", "198.51.100.10/25"))}`),
      "passed\n",
    );
  }),
);
