/**
 * The stack config parser: Pulumi's raw string config (keys without the `redis-ha:` namespace,
 * arrays as JSON) into typed values, then the settings model's checks and rules (settingsSchema.ts,
 * settingRules.ts, passwordPolicy.ts) in the stack's words, and the facts only a stack has (the
 * cloud, its regions and zones, who may connect). Every bad value is reported with the setting,
 * the value and the fix, before any resource exists.
 */
import { CIDR_SETTINGS_MESSAGES, checkCidrList } from "./cidrSettings";
import { publicExposureProblems } from "./firewallPolicy";
import { ConfigValidationError, SettingProblem, describeSecret, showValue } from "./errors";
import { SentinelPlacement } from "./model";
import { passwordProblems } from "./passwordPolicy";
import { CLOUD_DEFAULTS, Cloud, regionZones } from "./regions";
import { STACK_NAMES, SettingNames } from "./settingNames";
import { crossSettingRules, majorityOf, regionProblem, valueProblem } from "./settingRules";
import { CONFIG_NAMESPACE, SETTINGS_BY_KEY, SSH_KEY, SettingKey, StackSettings, closestSetting, defaultOf, isUnset } from "./settingsSchema";
import { TopologyInput, checkZoneSpread, planAddresses } from "./topology";

export { CONFIG_NAMESPACE, SETTINGS_SCHEMA, closestSetting, unsetValue } from "./settingsSchema";
export type { SettingKey, SettingSchema, StackSettings } from "./settingsSchema";
export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordProblem } from "./passwordPolicy";

const FULL = (key: string) => `${CONFIG_NAMESPACE}:${key}`;

export interface ValidatedSettings {
    settings: StackSettings;
    /** Facts a user should read (single-datacenter spread, unlimited memory, ...), not errors. */
    warnings: string[];
}

/**
 * Parses and validates raw stack config: keys without the `redis-ha:` namespace, values as Pulumi
 * hands them to programs (strings; arrays as JSON). Throws ConfigValidationError listing every problem.
 */
export interface ValidationOptions {
    /** Whose words the problems are in. Default the stack's (redis-ha:key, pulumi config commands). */
    names?: SettingNames;
    /** Passwords are checked later, once they resolve (a component's Input<string> args). Default false. */
    deferPasswords?: boolean;
}

export function validateStackConfig(given: Readonly<Record<string, string>>, options: ValidationOptions = {}): ValidatedSettings {
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(given)) {
        const schema = SETTINGS_BY_KEY.get(key);
        if (value === undefined) continue;
        if (!schema || !isUnset(schema, value)) raw[key] = value;
    }
    const names = options.names ?? STACK_NAMES;
    const onStack = names.surface === "stack";
    const problems: SettingProblem[] = [];
    const warnings: string[] = [];
    const problem = (key: string, value: string, text: string, fix: string) =>
        problems.push({ setting: names.name(key), value, problem: text, fix });

    for (const key of Object.keys(raw)) {
        if (!SETTINGS_BY_KEY.has(key)) {
            const guess = closestSetting(key);
            problem(key, showValue(raw[key]), "is not a redis-ha setting",
                !onStack ? (guess ? `did you mean ${names.name(guess)}?` : "leave it out (settings are listed in the README)")
                    : guess ? `did you mean ${FULL(guess)}? Run: pulumi config rm ${FULL(key)} && pulumi config set ${FULL(guess)} ...`
                    : `remove it with: pulumi config rm ${FULL(key)} (settings are listed in the README)`);
        }
    }

    /** The setting as typed: its raw text parsed by its schema type, then checked against its schema entry. */
    const typed = <K extends SettingKey>(key: K, fallback?: StackSettings[K]): StackSettings[K] | undefined => {
        const text = raw[key];
        const schema = SETTINGS_BY_KEY.get(key)!;
        if (text === undefined) return fallback ?? (schema.default as StackSettings[K] | undefined);
        let value: unknown = text;
        if (schema.type === "integer") value = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
        if (schema.type === "boolean") value = text === "true" ? true : text === "false" ? false : text;
        if (schema.type === "array") {
            try {
                value = JSON.parse(text);
            } catch {
                problem(key, showValue(text), "is not a list", `set it as a list: ${names.add(key, "VALUE")}`);
                return undefined;
            }
        }
        const found = valueProblem(key, value, names, showValue(text));
        if (found) {
            // A cloud-dependent default is the better example of a good value.
            problems.push(fallback !== undefined && schema.type === "string" ? { ...found, fix: names.set(key, String(fallback)) } : found);
            return undefined;
        }
        return value as StackSettings[K];
    };

    const cloud = typed("cloud");
    const defaults = CLOUD_DEFAULTS[cloud ?? "ovh"];

    const region = raw.region ?? defaults.region;
    let zones = typed("zones");
    if (cloud) zones = checkZones(cloud, region, zones, raw.zones, problem, names);

    const replicaCount = typed("replicaCount");
    const sentinelCount = typed("sentinelCount");
    const sentinelPlacement = typed("sentinelPlacement");
    const chosenQuorum = typed("quorum");
    const downAfterMilliseconds = typed("downAfterMilliseconds");
    const failoverTimeoutMilliseconds = typed("failoverTimeoutMilliseconds");
    const parallelSyncs = typed("parallelSyncs");
    const instanceType = typed("instanceType", defaults.instanceType);
    const sentinelInstanceType = typed("sentinelInstanceType", defaults.sentinelInstanceType);
    const image = typed("image", defaults.image);
    const sshUser = typed("sshUser", defaults.sshUser);

    const sshPublicKeys = typed("sshPublicKeys");
    if (raw.sshPublicKeys === undefined && cloud !== "lab") {
        problem("sshPublicKeys", "(unset)", "is required: the checks and operators log in with these keys",
            names.add("sshPublicKeys", onStack ? '"$(cat ~/.ssh/id_ed25519.pub)"' : "ssh-ed25519 AAAA... you@laptop"));
    } else if (sshPublicKeys) {
        problems.push(...sshKeyProblems(sshPublicKeys, names));
    }

    const allowWorldAccess = typed("allowWorldAccess");
    const adminCidrs = typed("adminCidrs");
    const appCidrs = typed("appCidrs");
    const monitoringCidrs = typed("monitoringCidrs");
    const cidrProblems: SettingProblem[] = [];
    if (monitoringCidrs) cidrProblems.push(...checkCidrList("monitoringCidrs", monitoringCidrs, names));
    for (const [key, cidrs, ports] of [["adminCidrs", adminCidrs, "SSH (22)"], ["appCidrs", appCidrs, "Redis and Sentinel"]] as const) {
        if (raw[key] === undefined) {
            problem(key, "(unset)", `is required: it decides who may reach ${ports}`, names.add(key, CIDR_SETTINGS_MESSAGES[key]));
            continue;
        }
        if (cidrs === undefined) continue;
        cidrProblems.push(...checkCidrList(key, cidrs, names));
    }
    problems.push(...cidrProblems);

    const privateNetworkCidr = raw.privateNetworkCidr ?? (SETTINGS_BY_KEY.get("privateNetworkCidr")!.default as string);
    const maxmemory = typed("maxmemory");
    const maxmemoryPolicy = typed("maxmemoryPolicy");
    const persistence = typed("persistence");
    const minReplicasToWrite = typed("minReplicasToWrite");
    const minReplicasMaxLag = typed("minReplicasMaxLag");
    const replDisklessSyncDelay = typed("replDisklessSyncDelay");
    const appScripting = typed("appScripting");
    const legacyDefaultUser = typed("legacyDefaultUser");
    const masterName = typed("masterName");
    const redisPort = typed("redisPort");
    const sentinelPort = typed("sentinelPort");
    // What the firewall would admit, judged on lists that are all there and parse: a typo is reported as that first.
    if (cidrProblems.length === 0 && appCidrs && adminCidrs) {
        problems.push(...publicExposureProblems({
            appCidrs, adminCidrs, monitoringCidrs, allowWorldAccess: allowWorldAccess === true,
            redisPort: redisPort ?? defaultOf("redisPort"), sentinelPort: sentinelPort ?? defaultOf("sentinelPort"),
        }, names));
    }
    const checks = typed("checks");
    const checkTimeoutSeconds = typed("checkTimeoutSeconds");
    const sshVia = typed("sshVia");
    const chosenSecretsDelivery = typed("secretsDelivery");
    if (chosenSecretsDelivery === "ssh" && checks === false) {
        problem("secretsDelivery", "ssh", "needs the checks' SSH to the hosts, and checks is false", `${names.set("secretsDelivery", "user-data")}, or turn the checks back on (${names.set("checks", "true")})`);
    }
    const secretsDelivery = chosenSecretsDelivery ?? (checks === false ? "user-data" : "ssh");
    if (chosenSecretsDelivery === undefined && secretsDelivery === "user-data") {
        warnings.push(`${names.name("checks")} is false, so nothing can deliver the passwords over SSH: they travel in the user-data, which the cloud keeps and shows through its API (docs/security.md). ${names.set("secretsDelivery", "user-data")} says you chose it.`);
    }
    const ovhProjectId = raw.ovhProjectId;
    if (cloud === "ovh") {
        const found = ovhProjectId === undefined
            ? { setting: names.name("ovhProjectId"), value: showValue(ovhProjectId), problem: "is required for cloud ovh", fix: names.set("ovhProjectId", SETTINGS_BY_KEY.get("ovhProjectId")!.example!) }
            : valueProblem("ovhProjectId", ovhProjectId, names, showValue(ovhProjectId));
        if (found) problems.push(found);
    }
    const ovhVlanId = typed("ovhVlanId");
    const sentinelAuth = typed("sentinelAuth");

    const rules = crossSettingRules({
        replicaCount, sentinelCount, sentinelPlacement, quorum: chosenQuorum, downAfterMilliseconds, failoverTimeoutMilliseconds,
        parallelSyncs, minReplicasToWrite, redisPort, sentinelPort, maxmemory, persistence, sentinelAuth,
    }, names);
    problems.push(...rules.problems);
    warnings.push(...rules.warnings);
    const quorum = chosenQuorum ?? (sentinelCount !== undefined ? majorityOf(sentinelCount) : undefined);

    const previousRedisPassword = raw.previousRedisPassword === "" ? undefined : raw.previousRedisPassword;
    const previousSentinelPassword = raw.previousSentinelPassword === "" ? undefined : raw.previousSentinelPassword;
    if (!options.deferPasswords) {
        problems.push(...passwordProblems({
            redisPassword: raw.redisPassword, previousRedisPassword, sentinelAuth: sentinelAuth ?? true, sentinelPassword: raw.sentinelPassword, previousSentinelPassword,
        }, names));
    }
    const sshPrivateKey = raw.sshPrivateKey;
    if (sshPrivateKey !== undefined && !/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(sshPrivateKey.trim())) {
        problem("sshPrivateKey", describeSecret(sshPrivateKey), "is not a PEM/OpenSSH private key",
            onStack ? `pulumi config set --secret ${FULL("sshPrivateKey")} < ~/.ssh/id_ed25519` : `set ${names.name("sshPrivateKey")} to the contents of a private key file`);
    }

    // Cross-setting facts that need the topology: only meaningful once the parts parsed.
    const sentinelCountValid = sentinelCount !== undefined && sentinelCount >= 3 && sentinelCount % 2 === 1;
    if (cloud && zones && zones.length > 0 && replicaCount !== undefined && sentinelCountValid && sentinelPlacement) {
        const input: TopologyInput = {
            zones,
            replicaCount,
            sentinelCount: sentinelCount!,
            sentinelPlacement: sentinelPlacement as SentinelPlacement,
            zoneKind: regionZones(cloud, region).zoneKind,
        };
        const spread = checkZoneSpread(input, names);
        for (const p of spread.problems) problems.push(p);
        warnings.push(...spread.warnings);
        const addressProblem = planAddresses(cloud === "digitalocean" ? "dynamic" : "static", privateNetworkCidr, replicaCount + 1 + (sentinelPlacement === "dedicated" ? sentinelCount! : 0), zones.length, names);
        if (addressProblem.problem) problems.push(addressProblem.problem);
    }

    if (problems.length > 0) throw new ConfigValidationError(problems);
    return {
        settings: {
            cloud: cloud!, region, zones: zones!, replicaCount: replicaCount!, sentinelCount: sentinelCount!,
            sentinelPlacement: sentinelPlacement!, quorum: quorum!, downAfterMilliseconds: downAfterMilliseconds!,
            failoverTimeoutMilliseconds: failoverTimeoutMilliseconds!, parallelSyncs: parallelSyncs!,
            instanceType: instanceType!, sentinelInstanceType: sentinelInstanceType!, image: image!, sshUser: sshUser!,
            sshPublicKeys: sshPublicKeys ?? [], adminCidrs: adminCidrs!, appCidrs: appCidrs!, monitoringCidrs: monitoringCidrs ?? adminCidrs!, allowWorldAccess: allowWorldAccess!,
            privateNetworkCidr, maxmemory: maxmemory!.toLowerCase(), maxmemoryPolicy: maxmemoryPolicy!, persistence: persistence!,
            minReplicasToWrite: minReplicasToWrite!, minReplicasMaxLag: minReplicasMaxLag!, replDisklessSyncDelay: replDisklessSyncDelay!, appScripting: appScripting!, legacyDefaultUser: legacyDefaultUser!, masterName: masterName!,
            redisPort: redisPort!, sentinelPort: sentinelPort!, checks: checks!, checkTimeoutSeconds: checkTimeoutSeconds!,
            sshVia: sshVia!, secretsDelivery, ovhProjectId, ovhVlanId: ovhVlanId!, redisPassword: raw.redisPassword,
            previousRedisPassword, sentinelAuth: sentinelAuth!, sentinelPassword: sentinelAuth === false ? "" : raw.sentinelPassword, previousSentinelPassword, sshPrivateKey,
        },
        warnings,
    };
}

/** Problems with a list of login keys: empty, or an entry that is not one OpenSSH public key. */
export function sshKeyProblems(keys: readonly string[], names: typeof STACK_NAMES): SettingProblem[] {
    if (keys.length === 0) return [{ setting: names.name("sshPublicKeys"), value: "[]", problem: "is empty", fix: names.add("sshPublicKeys", names.surface === "stack" ? '"$(cat ~/.ssh/id_ed25519.pub)"' : "ssh-ed25519 AAAA... you@laptop") }];
    return keys.flatMap((key, i) => SSH_KEY.test(key) ? [] : [{
        setting: names.name(`sshPublicKeys[${i}]`), value: showValue(key.length > 40 ? key.slice(0, 40) + "..." : key),
        problem: "is not a single-line OpenSSH public key (ssh-ed25519, ssh-rsa, ecdsa-sha2-*)", fix: "paste the contents of your .pub file",
    }]);
}

/** The zones of a stack: every zone of the region by default; a list the user gave, checked against the region. */
function checkZones(cloud: Cloud, region: string, zones: string[] | undefined, rawZones: string | undefined, problem: (key: string, value: string, text: string, fix: string) => void, names: SettingNames): string[] | undefined {
    const rz = regionZones(cloud, region);
    const unknownRegion = regionProblem(cloud, region, names, showValue(region));
    if (unknownRegion) {
        problem("region", unknownRegion.value, unknownRegion.problem, unknownRegion.fix);
        return zones;
    }
    if (zones === undefined) return rawZones === undefined ? (cloud === "digitalocean" ? [region] : [...rz.zones]) : undefined;
    if (zones.length === 0) problem("zones", showValue(rawZones), "is empty", `remove it to use every zone: ${names.unset("zones")}`);
    const duplicates = zones.filter((z, i) => zones.indexOf(z) !== i);
    if (duplicates.length > 0) problem("zones", showValue(rawZones), `lists ${duplicates.join(", ")} more than once`, "list each zone once");
    const unknown = zones.filter((z) => !rz.zones.includes(z));
    if (cloud !== "digitalocean" && zones.length > rz.zones.length) {
        problem("zones", showValue(rawZones), `asks for ${zones.length} zones but ${region} has ${rz.zones.length} (${rz.zones.join(", ")})`,
            `list at most ${rz.zones.length}, or choose a 3-AZ region such as EU-WEST-PAR`);
    } else if (unknown.length > 0) {
        problem("zones", showValue(rawZones), `${unknown.join(", ")} ${unknown.length === 1 ? "is" : "are"} not ${cloud === "digitalocean" ? "a DigitalOcean datacenter" : `a zone of ${region}`}`,
            `use ${cloud === "digitalocean" ? `datacenters from ${rz.zones.join(", ")}` : rz.zones.join(", ")}`);
    } else if (cloud === "digitalocean" && zones.length > 0 && zones[0] !== region) {
        problem("zones", showValue(rawZones), `must start with the region ${region} (the master's datacenter)`,
            names.add("zones", region));
    } else if (cloud === "digitalocean" && zones.length > 4) {
        problem("zones", showValue(rawZones), "lists more than 4 datacenters", "spread over at most 4 datacenters");
    }
    return zones;
}
