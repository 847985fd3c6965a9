/**
 * The rules of the settings model, written once and reported in the words of whichever surface the
 * values came from (settingNames.ts): a value against its own schema entry, and the rules that
 * relate settings to each other. The stack config parser and the component args both run them.
 */
import type { SettingProblem } from "./errors";
import type { SettingNames } from "./settingNames";
import { CLOUD_DEFAULTS, Cloud, knownRegions, regionZones } from "./regions";
import { ComponentName, SETTINGS_BY_KEY, SETTINGS_SCHEMA, SettingKey, StackSettings } from "./settingsSchema";

/** The smallest number of Sentinels that is more than half. */
export function majorityOf(count: number): number {
    return Math.floor(count / 2) + 1;
}

/**
 * A typed value against its schema entry: its type, bounds, allowed values or pattern. `shown` is
 * the value as the user typed it (on the stack, the raw string).
 */
export function valueProblem(key: SettingKey, value: unknown, names: SettingNames, shown = names.show(value)): SettingProblem | undefined {
    const schema = SETTINGS_BY_KEY.get(key)!;
    const problem = (text: string, fix: string): SettingProblem => ({ setting: names.name(key), value: shown, problem: text, fix });
    const example = schema.default ?? schema.min ?? schema.allowed?.[0] ?? schema.example ?? "VALUE";
    switch (schema.type) {
        case "integer":
            if (typeof value !== "number" || !Number.isInteger(value)) return problem("is not a whole number", names.set(key, example));
            if ((schema.min !== undefined && value < schema.min) || (schema.max !== undefined && value > schema.max)) {
                return problem(`must be between ${schema.min} and ${schema.max}`, names.set(key, example));
            }
            return undefined;
        case "boolean":
            return typeof value === "boolean" ? undefined : problem("is not true or false", names.set(key, example));
        case "array":
            return Array.isArray(value) && value.every((v) => typeof v === "string") ? undefined : problem("must be a list of strings", names.add(key, "VALUE"));
        case "string":
            if (typeof value !== "string") return problem("is not a string", names.set(key, example));
            if (schema.allowed && !schema.allowed.includes(value)) return problem(`must be one of ${schema.allowed.join(", ")}`, names.set(key, example));
            if (schema.pattern && !schema.pattern.test(value)) return problem(`is not ${schema.what}`, names.set(key, example));
            return undefined;
    }
}

const SECRETS = new Set<SettingKey>(["redisPassword", "previousRedisPassword", "sentinelPassword", "previousSentinelPassword", "sshPrivateKey"]);

/** The value at a dotted arg path ("redis.maxmemory"), or undefined. */
export function valueAt(args: unknown, path: string): unknown {
    return path.split(".").reduce<unknown>((v, part) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined), args);
}

/**
 * The settings one component's args carry, each checked against its schema entry and defaulted by
 * it (a setting without a static default stays undefined when not given). Secrets are left to
 * passwordProblems: they may be Outputs.
 */
export function argValues(component: ComponentName, args: object, names: SettingNames): { values: Partial<StackSettings>; problems: SettingProblem[] } {
    const problems: SettingProblem[] = [];
    const values: Partial<Record<SettingKey, unknown>> = {};
    for (const schema of SETTINGS_SCHEMA) {
        const path = schema.args?.[component];
        if (!path || SECRETS.has(schema.key)) continue;
        const given = valueAt(args, path);
        if (given === undefined) {
            values[schema.key] = schema.default;
            continue;
        }
        const found = valueProblem(schema.key, given, names);
        if (found) problems.push(found);
        else values[schema.key] = given;
    }
    return { values: values as Partial<StackSettings>, problems };
}

/** The Sentinel topology: count, quorum and where colocated Sentinels can sit. `quorum` only when the user chose one. */
export function topologyRules(v: Partial<Pick<StackSettings, "replicaCount" | "sentinelCount" | "sentinelPlacement" | "quorum">>, names: SettingNames): SettingProblem[] {
    const problems: SettingProblem[] = [];
    const problem = (key: SettingKey, value: unknown, text: string, fix: string) => problems.push({ setting: names.name(key), value: names.show(value), problem: text, fix });
    const { sentinelCount, replicaCount, quorum } = v;
    if (sentinelCount === undefined) return problems;
    const countValid = sentinelCount >= 3 && sentinelCount % 2 === 1;
    if (!countValid) {
        problem("sentinelCount", sentinelCount,
            sentinelCount < 3 ? "must be at least 3: failover needs a majority of Sentinels, and fewer than 3 cannot survive losing one"
                : "must be odd: an even count adds a Sentinel without tolerating one more loss, and can split into two halves that both fail to reach a majority",
            names.set("sentinelCount", Math.max(3, sentinelCount % 2 === 0 ? sentinelCount + 1 : 3)));
    }
    if (quorum !== undefined) {
        if (quorum > sentinelCount) {
            problem("quorum", quorum, `is larger than ${names.mention("sentinelCount")} (${sentinelCount}): no failover could ever be agreed`, names.set("quorum", majorityOf(sentinelCount)));
        } else if (quorum < majorityOf(sentinelCount)) {
            problem("quorum", quorum, `is smaller than a majority of ${sentinelCount} Sentinels (${majorityOf(sentinelCount)}): a minority on the wrong side of a partition could declare the master down`,
                names.set("quorum", majorityOf(sentinelCount)));
        }
    }
    if (v.sentinelPlacement === "colocated" && countValid && replicaCount !== undefined && sentinelCount > replicaCount + 1) {
        problem("sentinelCount", sentinelCount, `is more than the ${replicaCount + 1} Redis nodes that colocated Sentinels can sit beside`,
            `${names.set("sentinelPlacement", "dedicated")}, or raise ${names.mention("replicaCount")} to ${sentinelCount - 1}`);
    }
    return problems;
}

export interface RuleFindings {
    problems: SettingProblem[];
    /** Facts a user should read (unlimited memory, no persistence, ...), not errors. */
    warnings: string[];
}

/** Every rule that relates settings to each other, over the values that parsed. */
export function crossSettingRules(v: Partial<StackSettings>, names: SettingNames): RuleFindings {
    const problems = topologyRules(v, names);
    const warnings: string[] = [];
    const problem = (key: SettingKey, value: unknown, text: string, fix: string) => problems.push({ setting: names.name(key), value: names.show(value), problem: text, fix });
    const { replicaCount, downAfterMilliseconds, failoverTimeoutMilliseconds, parallelSyncs, minReplicasToWrite, redisPort, sentinelPort } = v;

    if (downAfterMilliseconds !== undefined && failoverTimeoutMilliseconds !== undefined && failoverTimeoutMilliseconds <= downAfterMilliseconds) {
        problem("failoverTimeoutMilliseconds", failoverTimeoutMilliseconds, `must be larger than ${names.mention("downAfterMilliseconds")} (${downAfterMilliseconds})`,
            names.set("failoverTimeoutMilliseconds", Math.max(10000, downAfterMilliseconds * 2)));
    }
    if (downAfterMilliseconds !== undefined && downAfterMilliseconds < 1500) {
        warnings.push(`${names.mention("downAfterMilliseconds")} ${downAfterMilliseconds} is below 1500: expect false failovers, each losing what the demoted master acknowledged after the switch (see docs/failover.md).`);
    }
    if (parallelSyncs !== undefined && replicaCount !== undefined && parallelSyncs > replicaCount) {
        problem("parallelSyncs", parallelSyncs, `is more than ${names.mention("replicaCount")} (${replicaCount})`, names.set("parallelSyncs", 1));
    }
    if (minReplicasToWrite !== undefined && replicaCount !== undefined) {
        if (minReplicasToWrite > replicaCount) {
            problem("minReplicasToWrite", minReplicasToWrite, `is more than ${names.mention("replicaCount")} (${replicaCount}): the master would refuse every write`, names.set("minReplicasToWrite", 1));
        } else if (minReplicasToWrite === replicaCount && minReplicasToWrite > 0) {
            warnings.push(`${names.mention("minReplicasToWrite")} equals ${names.mention("replicaCount")} (${replicaCount}): losing any one replica stops writes.`);
        }
    }
    for (const [key, port] of [["redisPort", redisPort], ["sentinelPort", sentinelPort]] as const) {
        if (port === 22) problem(key, port, "clashes with SSH (22)", names.set(key, SETTINGS_BY_KEY.get(key)!.default as number));
        else if (port !== undefined && port < 1024) problem(key, port, "is a privileged port (< 1024) that the redis user cannot bind", names.set(key, SETTINGS_BY_KEY.get(key)!.default as number));
    }
    if (redisPort !== undefined && redisPort === sentinelPort) {
        problem("sentinelPort", sentinelPort, `clashes with ${names.mention("redisPort")} (${redisPort}): colocated Redis and Sentinel cannot share a port`, names.set("sentinelPort", 26379));
    }
    if (v.maxmemory === "0") warnings.push(`${names.mention("maxmemory")} is 0 (no limit): Redis can grow until the kernel kills it; set ${names.name("maxmemory")} to about 70% of the instance's RAM.`);
    if (v.persistence === "none") warnings.push(`${names.mention("persistence")} is none: a node that restarts comes back empty; use it only for a pure cache.`);
    if (v.sentinelAuth === false) warnings.push(`${names.mention("sentinelAuth")} is false: anyone who can reach a Sentinel port can reconfigure the quorum; keep ${names.mention("appCidrs")} to the application servers.`);
    return { problems, warnings };
}

/** A region redis-ha has no zones for: refused on the stack (redis-ha:region) and by OvhPlatform (args.region) alike. */
export function regionProblem(cloud: Cloud, region: string, names: SettingNames, shown = names.show(region)): SettingProblem | undefined {
    if (regionZones(cloud, region).known) return undefined;
    return { setting: names.name("region"), value: shown, problem: `is not a ${cloud} region redis-ha knows`, fix: `use one of ${knownRegions(cloud).join(", ")}: ${names.set("region", CLOUD_DEFAULTS[cloud].region)}` };
}
