/**
 * What a running deployment cannot take in place, and why. A stack records these values when it is
 * created; a later `pulumi preview` that would change one is refused with the reason and what to do
 * instead, before any resource is touched (a guard resource compares them, components/guard.ts).
 * Silently replacing every Redis VM at once, or renaming the group under running Sentinels, would
 * lose the data or the quorum.
 */

export interface ImmutableSetting {
    /** Stable key in the guard's state ("redisPort", "zone of redis-ha-ovh-redis-1"). */
    key: string;
    value: string;
    /** Why it cannot change under running nodes, and the way to get there instead. */
    refusal: string;
}

export interface DeploymentIdentityInput {
    masterName: string;
    redisPort: number;
    sentinelPort: number;
    privateNetworkCidr: string;
    sentinelPlacement: string;
    image: string;
    instanceType: string;
    /** Sentinels in the deployment. */
    sentinelCount: number;
    /** Every planned host: its zone, its fixed address (static addressing), and whether it carries a Sentinel. */
    hosts: ReadonlyArray<{ name: string; zone: string; privateAddress?: string; sentinel?: boolean }>;
}

const NEW_STACK = "deploy a second stack with the new value beside this one, move the data (REPLICAOF from the new master, or an RDB copy) and the clients, then destroy this stack";

export function deploymentIdentity(input: DeploymentIdentityInput): ImmutableSetting[] {
    const settings: ImmutableSetting[] = [
        { key: "masterName", value: input.masterName, refusal: `every Sentinel and every client knows the group by this name, and Sentinel can only rename it by forgetting it (SENTINEL REMOVE loses its settings). Keep it, or ${NEW_STACK}` },
        { key: "redisPort", value: String(input.redisPort), refusal: `every client, replica and Sentinel reaches the nodes on this port, and a running Redis cannot move to another. Keep it, or ${NEW_STACK}` },
        { key: "sentinelPort", value: String(input.sentinelPort), refusal: `every client and Sentinel reaches the Sentinels on this port, and Sentinels record each other by it. Keep it, or ${NEW_STACK}` },
        { key: "privateNetworkCidr", value: input.privateNetworkCidr, refusal: `every node's address lies in this network: a new one would replace every VM at once and lose the data. Keep it, or ${NEW_STACK}` },
        { key: "sentinelPlacement", value: input.sentinelPlacement, refusal: `it moves the Sentinels between VMs, which pulumi up cannot do under a running quorum. Keep it, or ${NEW_STACK}` },
        { key: "image", value: input.image, refusal: "a new image replaces the VMs, and pulumi up would replace every one at once (one node at a time is not built yet). Keep the current image; docs/operations.md says how to replace nodes one at a time by hand" },
        { key: "instanceType", value: input.instanceType, refusal: "a new size replaces the VMs, and pulumi up would replace every one at once (one node at a time is not built yet). Keep the current size; docs/operations.md says how to replace nodes one at a time by hand" },
    ];
    settings.push({ key: "sentinelCount", value: String(input.sentinelCount), refusal: "pulumi up adds and removes replicas, not Sentinels: a Sentinel added to a running quorum needs its peers to learn it and every other Sentinel reset in turn, which is not built yet. Keep the count, or deploy a second stack with the new count and move the data and the clients to it" });
    for (const host of input.hosts) {
        settings.push({ key: `zone of ${host.name}`, value: host.zone, refusal: `moving ${host.name} to another zone replaces its VM, and the zones of existing nodes must stay as they are. Keep the zones list in the same order (add zones at the end), or ${NEW_STACK}` });
        if (host.privateAddress) {
            settings.push({ key: `address of ${host.name}`, value: host.privateAddress, refusal: `${host.name} would move to another fixed address, which replaces its VM (Sentinels and clients know it by this one). With dedicated Sentinels on a fixed-address cloud (ovh, the lab) a changed replicaCount shifts the Sentinels' addresses: keep replicaCount there, or ${NEW_STACK}` });
        }
        if (host.sentinel) settings.push({ key: `Sentinel on ${host.name}`, value: "yes", refusal: "" });
    }
    return settings;
}

/** The refusals, one message each, for going from `recorded` (key -> value) to `next`; [] when the change is allowed. */
export function immutableChangeRefusals(recorded: Readonly<Record<string, string>>, next: readonly ImmutableSetting[], settingName: (key: string) => string = (k) => k): string[] {
    // "zone of <host>" keys are named by the zones list that placed the host.
    const nameOf = (key: string) =>
        key.startsWith("zone of ") ? `the zone of ${key.slice(8)} (redis-ha:zones / args.zones)`
        : key.startsWith("address of ") ? `the private address of ${key.slice(11)}`
        : settingName(key);
    const nextByKey = new Map(next.map((s) => [s.key, s]));
    const messages: string[] = [];
    for (const setting of next) {
        const before = recorded[setting.key];
        if (before !== undefined && before !== setting.value) {
            messages.push(`${nameOf(setting.key)} cannot change on a running deployment (${JSON.stringify(before)} -> ${JSON.stringify(setting.value)}): ${setting.refusal}.`);
        }
    }
    // A removed data node without a Sentinel is a lower replicaCount, which the settings rollout
    // carries out (switchover if it is the master, detach, every Sentinel reset in turn). A removed
    // Sentinel host would take a member of the quorum with it.
    for (const key of Object.keys(recorded)) {
        const host = /^Sentinel on (.+)$/.exec(key)?.[1];
        if (host && !nextByKey.has(`zone of ${host}`)) {
            messages.push(`${host} would be removed, and it carries a Sentinel: pulumi up removes replicas without a Sentinel only (the highest-numbered data nodes). Keep it, or deploy a second stack with the new topology and move the data and the clients to it.`);
        }
    }
    return messages;
}
