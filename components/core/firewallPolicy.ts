/**
 * The firewall policy as data: who may reach which port on which kind of host. Platforms turn it
 * into security groups, Cloud Firewalls or nftables; tests read it without any cloud.
 */
import { CidrSetting, checkCidrList } from "./cidrSettings";
import { ConfigValidationError, SettingProblem } from "./errors";
import { STACK_NAMES, SettingNames } from "./settingNames";
import { Ipv4Cidr, parseCidr } from "./cidr";
import { MAX_PUBLIC_ADDRESSES_PER_PORT, describeExposure, publicExposure } from "./publicExposure";
import { REDIS_EXPORTER_PORT, SENTINEL_EXPORTER_PORT } from "./monitoring";

/** Which hosts a rule applies to: Redis data nodes, hosts running a Sentinel, or every host. */
export type FirewallTarget = "redis" | "sentinel" | "all";

export type FirewallSource =
    | { kind: "cidr"; cidr: string }
    /** Every host of this deployment (replication, Sentinel gossip and monitoring). */
    | { kind: "cluster" };

export interface FirewallRule {
    target: FirewallTarget;
    protocol: "tcp";
    port: number;
    source: FirewallSource;
    purpose: string;
}

export interface FirewallPolicy {
    ingress: FirewallRule[];
    /**
     * Outbound traffic is open: first boot installs packages from the distribution mirror. Stated
     * here because DigitalOcean's Cloud Firewall denies outbound traffic not listed explicitly.
     */
    egress: "any";
}

export interface FirewallPolicyInput {
    redisPort: number;
    sentinelPort: number;
    sshPort?: number;
    appCidrs: readonly string[];
    adminCidrs: readonly string[];
    /** Where Prometheus scrapes the exporters from. Default: adminCidrs. */
    monitoringCidrs?: readonly string[];
    /** Explicit opt-in to 0.0.0.0/0. Default false. */
    allowWorldAccess?: boolean;
}

export const SSH_PORT = 22;

/** The policy for `input`; `names` word its problems (the stack's by default, a component's args). */
export function buildFirewallPolicy(input: FirewallPolicyInput, names: SettingNames = STACK_NAMES): FirewallPolicy {
    const listProblems: SettingProblem[] = [
        ...checkCidrList("appCidrs", input.appCidrs, names),
        ...checkCidrList("adminCidrs", input.adminCidrs, names),
        ...(input.monitoringCidrs ? checkCidrList("monitoringCidrs", input.monitoringCidrs, names) : []),
    ];
    // Exposure is judged on rules that parse; a list with a typo is reported as that first.
    const problems = listProblems.length > 0 ? listProblems : publicExposureProblems(input, names);
    if (problems.length > 0) throw new ConfigValidationError(problems);
    return { ingress: firewallIngress(input), egress: "any" };
}

/** The ingress rules for `input`, unchecked: buildFirewallPolicy checks first. */
function firewallIngress(input: FirewallPolicyInput): FirewallRule[] {
    const monitoring = input.monitoringCidrs ?? input.adminCidrs;
    const ssh = input.sshPort ?? SSH_PORT;
    const fromCidrs = (cidrs: readonly string[], target: FirewallTarget, port: number, purpose: string): FirewallRule[] =>
        cidrs.map((cidr) => ({ target, protocol: "tcp", port, source: { kind: "cidr", cidr }, purpose }));
    return [
        { target: "redis", protocol: "tcp", port: input.redisPort, source: { kind: "cluster" }, purpose: "replication and Sentinel monitoring" },
        ...fromCidrs(input.appCidrs, "redis", input.redisPort, "application clients"),
        { target: "sentinel", protocol: "tcp", port: input.sentinelPort, source: { kind: "cluster" }, purpose: "Sentinels talking to each other" },
        ...fromCidrs(input.appCidrs, "sentinel", input.sentinelPort, "application clients asking for the master"),
        ...fromCidrs(input.adminCidrs, "all", ssh, "operators and the post-deploy checks"),
        ...fromCidrs(monitoring, "redis", REDIS_EXPORTER_PORT, "Prometheus scraping the Redis exporter"),
        ...fromCidrs(monitoring, "sentinel", SENTINEL_EXPORTER_PORT, "Prometheus scraping the Sentinel exporter"),
    ];
}

/**
 * Every port the rules open to more public addresses than MAX_PUBLIC_ADDRESSES_PER_PORT, counted
 * over the union of every rule's sources for that port (so no split of the blocks, and no second
 * list feeding the same port, hides it), unless the user opted in with allowWorldAccess. Each
 * problem names the settings whose blocks reach the port. Expects lists that parse.
 */
export function publicExposureProblems(input: FirewallPolicyInput, names: SettingNames = STACK_NAMES): SettingProblem[] {
    if (input.allowWorldAccess === true) return [];
    // monitoringCidrs defaults to adminCidrs: a default is reported as the list it came from.
    const lists: Array<[CidrSetting, readonly string[]]> = [["appCidrs", input.appCidrs], ["adminCidrs", input.adminCidrs], ...(input.monitoringCidrs ? [["monitoringCidrs", input.monitoringCidrs] as [CidrSetting, readonly string[]]] : [])];
    const byPort = new Map<number, FirewallRule[]>();
    for (const rule of firewallIngress(input)) if (rule.source.kind === "cidr") byPort.set(rule.port, [...(byPort.get(rule.port) ?? []), rule]);
    // One problem per setting (or settings) at fault, naming every port it opens too wide.
    const found = new Map<string, { settings: CidrSetting[]; ports: string[]; exposure: string }>();
    for (const [port, rules] of byPort) {
        const cidrs = rules.map((r) => (r.source.kind === "cidr" ? r.source.cidr : ""));
        const blocks = cidrs.map((c) => parseCidr(c)).flatMap((p): Ipv4Cidr[] => (p.ok ? [p.cidr] : []));
        const exposure = publicExposure(blocks);
        if (exposure.publicAddresses <= MAX_PUBLIC_ADDRESSES_PER_PORT) continue;
        const settings = lists.filter(([, list]) => list.some((c) => cidrs.includes(c))).map(([key]) => key);
        const id = settings.join("+");
        const entry = found.get(id) ?? { settings, ports: [], exposure: describeExposure(exposure) };
        entry.ports.push(`${port} (${rules[0].purpose})`);
        found.set(id, entry);
    }
    return [...found.values()].map(({ settings, ports, exposure }) => ({
        setting: settings.map((k) => names.name(k)).join(" + "),
        value: settings.map((k) => names.show(lists.find(([key]) => key === k)![1])).join(" + "),
        problem: `admit${settings.length === 1 ? "s" : ""} ${exposure} to port ${ports.join(" and ")}: more than the ${MAX_PUBLIC_ADDRESSES_PER_PORT.toLocaleString("en-US")} (a /16's worth) redis-ha opens a port to without allowWorldAccess, however the blocks are split; a port open that wide is found by scanners within minutes`,
        fix: `list only the addresses that need access (your servers' /32s, your office's or VPN's block), or, if you really mean it, ${names.set("allowWorldAccess", true)}`,
    }));
}

/** The rules a host gets, given what it runs. */
export function rulesFor(policy: FirewallPolicy, host: { redis: boolean; sentinel: boolean }): FirewallRule[] {
    return policy.ingress.filter((r) => r.target === "all" || (r.target === "redis" && host.redis) || (r.target === "sentinel" && host.sentinel));
}

/** Targets present in a plan, so platforms create only the groups that some host needs. */
export function targetsFor(host: { redis: boolean; sentinel: boolean }): FirewallTarget[] {
    return ["all", ...(host.redis ? ["redis" as const] : []), ...(host.sentinel ? ["sentinel" as const] : [])];
}
