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
    /**
     * Why the VMs cannot be replaced one at a time here (a new image or instanceType is then refused);
     * undefined when they can (see replacementRefusal()).
     */
    replacementRefusal?: string;
    /**
     * The settings of a password rotation under way (previousRedisPassword, previousSentinelPassword),
     * by the names the user knows them by; empty or undefined when none is. A node created meanwhile
     * (a new image or size, a higher replicaCount) boots knowing only the new password, so the
     * Sentinels and replicas that still use the old one would be locked out of it.
     */
    rotationsUnderWay?: readonly string[];
    /** Every planned host: its zone, its fixed address (static addressing), and whether it carries a Sentinel. */
    hosts: ReadonlyArray<{ name: string; zone: string; privateAddress?: string; sentinel?: boolean }>;
}

const NEW_STACK = "deploy a second stack with the new value beside this one, move the data (REPLICAOF from the new master, or an RDB copy) and the clients, then destroy this stack";

export interface ReplacementConditions {
    /** Whether the platform keeps each host's address through a replacement (ovh, the lab). */
    fixedAddresses: boolean;
    /** Whether pulumi can reach the hosts over SSH (the checks are on). */
    sshAccess: boolean;
    replicaCount: number;
    minReplicasToWrite: number;
}

/**
 * Why a rolling replacement (a new image or instanceType) cannot be done safely, or undefined when it
 * can: each node in turn is away until its successor has synced, so the master then has one replica
 * fewer, and only a host reached over SSH can hand its role over before its VM goes.
 */
export function replacementRefusal(c: ReplacementConditions): string | undefined {
    const keep = "Keep the current value; docs/operations.md says how to replace nodes one at a time by hand";
    if (!c.fixedAddresses) return `on a cloud that assigns addresses (digitalocean) the nodes are not replaced one at a time yet, and pulumi up would replace every one at once. ${keep}`;
    if (!c.sshAccess) return `without SSH access (redis-ha:checks false) pulumi up cannot hand the master's role over before its VM goes. Turn the checks on, or keep the current value`;
    if (c.replicaCount - 1 < c.minReplicasToWrite) {
        return `while one node is replaced the master has ${c.replicaCount - 1} replica(s), fewer than minReplicasToWrite (${c.minReplicasToWrite}), so it would refuse every write. Add a replica first (redis-ha:replicaCount ${c.minReplicasToWrite + 1}, one pulumi up), or lower redis-ha:minReplicasToWrite`;
    }
    return undefined;
}

export function deploymentIdentity(input: DeploymentIdentityInput): ImmutableSetting[] {
    const rotations = input.rotationsUnderWay ?? [];
    const rotationRefusal = rotations.length === 0 ? undefined
        : `a password rotation is under way (${rotations.join(", ")} set), and a new VM boots knowing only the new password, while the Sentinels and replicas may still log in with the old one. Finish the rotation first (remove ${rotations.join(" and ")}, pulumi up), then make this change`;
    const replacement = rotationRefusal ?? input.replacementRefusal;
    const settings: ImmutableSetting[] = [
        { key: "masterName", value: input.masterName, refusal: `every Sentinel and every client knows the group by this name, and Sentinel can only rename it by forgetting it (SENTINEL REMOVE loses its settings). Keep it, or ${NEW_STACK}` },
        { key: "redisPort", value: String(input.redisPort), refusal: `every client, replica and Sentinel reaches the nodes on this port, and a running Redis cannot move to another. Keep it, or ${NEW_STACK}` },
        { key: "sentinelPort", value: String(input.sentinelPort), refusal: `every client and Sentinel reaches the Sentinels on this port, and Sentinels record each other by it. Keep it, or ${NEW_STACK}` },
        { key: "privateNetworkCidr", value: input.privateNetworkCidr, refusal: `every node's address lies in this network: a new one would replace every VM at once and lose the data. Keep it, or ${NEW_STACK}` },
        { key: "sentinelPlacement", value: input.sentinelPlacement, refusal: `it moves the Sentinels between VMs, which pulumi up cannot do under a running quorum. Keep it, or ${NEW_STACK}` },
        // A new image or size replaces the VMs, one at a time through their handoffs (cloud-init/handoffScript.ts).
        { key: "image", value: input.image, refusal: replacement ? `a new image replaces the VMs: ${replacement}` : "" },
        { key: "instanceType", value: input.instanceType, refusal: replacement ? `a new size replaces the VMs: ${replacement}` : "" },
    ];
    // Colocated: free to change as long as each Sentinel comes and goes with its own host (checked
    // per host in immutableChangeRefusals); the joins and the rollout do the rest.
    settings.push({
        key: "sentinelCount", value: String(input.sentinelCount),
        refusal: input.sentinelPlacement === "colocated" ? "" : `pulumi up does not add or remove dedicated Sentinel VMs yet (only colocated Sentinels, with their data nodes, are proven in the lab). Keep the count, or ${NEW_STACK}`,
    });
    // Recorded so that a rotation can refuse added (or removed) nodes; otherwise free to change.
    settings.push({ key: "hosts", value: input.hosts.map((h) => h.name).join(" "), refusal: rotationRefusal ? `it adds or removes nodes: ${rotationRefusal}` : "" });
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
        // An empty refusal is a value recorded for what it implies elsewhere, not one that may not change.
        if (setting.refusal === "") continue;
        const before = recorded[setting.key];
        if (before !== undefined && before !== setting.value) {
            messages.push(`${nameOf(setting.key)} cannot change on a running deployment (${JSON.stringify(before)} -> ${JSON.stringify(setting.value)}): ${setting.refusal}.`);
        }
    }
    // A removed data node is a lower replicaCount, which the settings rollout carries out (switchover
    // if it is the master, detach, every Sentinel reset in turn). Its Sentinel may go with it only
    // when sentinelCount is lowered too (the rollout then stops it monitoring before the resets);
    // otherwise it would take a member of the quorum with it.
    const countBefore = Number(recorded.sentinelCount);
    const countAfter = Number(nextByKey.get("sentinelCount")?.value);
    const countLowered = countAfter < countBefore;
    const count = settingName("sentinelCount");
    for (const key of Object.keys(recorded)) {
        const host = /^Sentinel on (.+)$/.exec(key)?.[1];
        if (host && !nextByKey.has(`zone of ${host}`) && !countLowered) {
            messages.push(`${host} would be removed, and it carries a Sentinel: pulumi up removes a Sentinel's host only when ${count} is lowered with it (the highest-numbered data nodes). Keep it, or lower ${count} too.`);
        }
    }
    // A host that stays keeps what it runs: its Sentinel (or its lack of one) came with its first
    // boot, and pulumi up neither starts nor stops one on a running host.
    for (const setting of next) {
        const host = /^zone of (.+)$/.exec(setting.key)?.[1];
        if (!host || recorded[setting.key] === undefined) continue;
        const before = recorded[`Sentinel on ${host}`] === "yes";
        const after = nextByKey.get(`Sentinel on ${host}`)?.value === "yes";
        if (!before && after) {
            messages.push(`${host} runs without a Sentinel and would get one (${count} ${countBefore} -> ${countAfter}): pulumi up starts a Sentinel only on a host it creates. Colocated Sentinels sit on the first ${count} data nodes, so raise the count only while every data node carries one, together with redis-ha:replicaCount (args.replicaCount), so each new Sentinel comes with a new node; or keep the count.`);
        } else if (before && !after) {
            messages.push(`${host} carries a Sentinel and would keep running without it (${count} ${countBefore} -> ${countAfter}): pulumi up stops a Sentinel only with its host. Lower redis-ha:replicaCount (args.replicaCount) with it, to ${countAfter - 1}, so the hosts that lose their Sentinel are removed; or keep the count.`);
        }
    }
    return messages;
}
