/**
 * RedisReplicaSet's args checked by the settings model, in the component's words: every setting an
 * arg carries goes through the same schema entry and the same rules as its stack setting, and comes
 * out with the same default. The component's constructor only turns the result into resources.
 */
import type { SettingProblem } from "./errors";
import { DeploymentPasswords, passwordProblems } from "./passwordPolicy";
import { SettingNames, componentNames } from "./settingNames";
import { argValues, crossSettingRules } from "./settingRules";
import type { StackSettings } from "./settingsSchema";
import { sshKeyProblems } from "./settings";

/** The settings-shaped part of RedisReplicaSetArgs (secrets may be Outputs: those are checked once they resolve). */
export interface ReplicaSetSettingsArgs {
    zones?: readonly string[];
    replicaCount?: number;
    masterName?: string;
    redisPassword?: unknown;
    previousRedisPassword?: unknown;
    redis?: object;
    sentinel?: { password?: unknown; previousPassword?: unknown };
    instanceType?: string;
    image?: string;
    sshPublicKeys?: readonly string[];
    privateNetworkCidr?: string;
    access?: object;
    secretsDelivery?: string;
}

/** The settings RedisReplicaSet runs with, every default applied. */
export type ReplicaSetSettings = Pick<StackSettings,
    | "zones" | "replicaCount" | "masterName" | "redisPort" | "sentinelPort" | "persistence" | "maxmemory" | "maxmemoryPolicy"
    | "minReplicasToWrite" | "minReplicasMaxLag" | "replDisklessSyncDelay" | "appScripting" | "legacyDefaultUser" | "sentinelCount" | "sentinelPlacement"
    | "downAfterMilliseconds" | "failoverTimeoutMilliseconds" | "parallelSyncs" | "sentinelAuth" | "instanceType" | "image"
    | "sshPublicKeys" | "privateNetworkCidr" | "secretsDelivery"> & {
    /** Only when the user chose one; the planner derives a majority otherwise. */
    quorum?: number;
};

export interface ReplicaSetSettingsResult {
    settings: ReplicaSetSettings;
    problems: SettingProblem[];
    warnings: string[];
}

/**
 * Checks `args` against the settings model. `providesLoginKey`: the platform authorises a key of its
 * own (the lab), so sshPublicKeys may be empty.
 */
export function resolveReplicaSetSettings(args: ReplicaSetSettingsArgs, providesLoginKey = false, names: SettingNames = componentNames("RedisReplicaSet")): ReplicaSetSettingsResult {
    const { values: v, problems } = argValues("RedisReplicaSet", args, names);
    if (!args.zones?.length) problems.push({ setting: names.name("zones"), value: names.show(args.zones), problem: "is empty", fix: names.add("zones", "GRA9") });
    for (const key of ["instanceType", "image"] as const) {
        if (args[key] === undefined || args[key] === "") problems.push({ setting: names.name(key), value: "(unset)", problem: "is required", fix: names.set(key, key === "image" ? "Debian 12" : "b3-8") });
    }
    if (args.sshPublicKeys?.length || !providesLoginKey) problems.push(...sshKeyProblems(args.sshPublicKeys ?? [], names));

    const rules = crossSettingRules(v, names);
    problems.push(...rules.problems);
    // Delivered over the same SSH as the handoffs and checks: without it, only the user-data can carry them.
    // access is RedisReplicaSet's own arg, not a setting: named as the component names it.
    if (v.secretsDelivery === "ssh" && !args.access) {
        problems.push({ setting: names.name("secretsDelivery"), value: names.show("ssh"), problem: "needs SSH to the hosts, and args.access is unset", fix: `give args.access (the checks' login), or ${names.set("secretsDelivery", "user-data")}` });
    }
    const warnings = [...rules.warnings];
    if (v.secretsDelivery === undefined && !args.access) {
        warnings.push(`args.access is unset, so nothing can deliver the passwords over SSH: they travel in the user-data, which the cloud keeps and shows through its API (docs/security.md). ${names.set("secretsDelivery", "user-data")} says you chose it.`);
    }
    v.secretsDelivery ??= args.access ? "ssh" : "user-data";

    // Passwords known now are checked now; Outputs once they resolve (RedisReplicaSet runs the same rules then).
    const passwords = replicaSetPasswords(args, v.sentinelAuth ?? true);
    if (passwords) problems.push(...passwordProblems(passwords, names));

    return { settings: v as ReplicaSetSettings, problems, warnings };
}

/** The args' passwords, when every one given is a plain string (else undefined: they resolve later). */
export function replicaSetPasswords(args: ReplicaSetSettingsArgs, sentinelAuth: boolean): DeploymentPasswords | undefined {
    const given = [args.redisPassword, args.previousRedisPassword, args.sentinel?.password, args.sentinel?.previousPassword];
    if (!given.every((p) => p === undefined || typeof p === "string")) return undefined;
    const [redisPassword, previousRedisPassword, sentinelPassword, previousSentinelPassword] = given as Array<string | undefined>;
    return { redisPassword, previousRedisPassword, sentinelAuth, sentinelPassword, previousSentinelPassword };
}
