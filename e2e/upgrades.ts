// Test code: the earlier programs whose deployed stacks this one must take over in place. Each
// upgrade case deploys the dev stack with the program as of its commit, then updates it with this
// one: only updates in place on the hosts (and what that commit did not have yet), every Docker
// object keeping its id.

export interface Upgrade {
  commit: string;
  /** What changed since, in a few words. */
  what: string;
  /** Steps that may create rather than update: resources this program has and that commit had not. */
  newSince: RegExp;
}

export const UPGRADES: readonly Upgrade[] = [
  // New since 593ec9a: the read-only checks, each host's boot unit (created beside what runs) and its Confirm.
  { commit: "593ec9a", what: "before stable identities", newSince: /check[-/]ping|docker-engine|^create \S+\/(boot\/unit|confirm) / },
  // The last program before one plan of what a host holds and the script builder: the same resources
  // but each host's Confirm (commit confirmed), which changes nothing it has not armed.
  { commit: "ea7be6b", what: "before the per-host plan and the script builder", newSince: /^create \S+\/confirm / },
];
