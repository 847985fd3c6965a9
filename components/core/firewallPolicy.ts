/**
 * The firewall policy as data: who may reach which port on which kind of host. Platforms turn it
 * into security groups, Cloud Firewalls or nftables; tests read it without any cloud.
 */
import { checkCidrList } from "./cidrSettings";
import { ConfigValidationError, SettingProblem } from "./errors";
import { STACK_NAMES, SettingNames } from "./settingNames";
import { WORLD_CIDR } from "./cidr";
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
    const problems: SettingProblem[] = [
        ...checkCidrList("appCidrs", input.appCidrs, input.allowWorldAccess === true, names),
        ...checkCidrList("adminCidrs", input.adminCidrs, input.allowWorldAccess === true, names),
        ...(input.monitoringCidrs ? checkCidrList("monitoringCidrs", input.monitoringCidrs, input.allowWorldAccess === true, names) : []),
    ];
    const monitoring = input.monitoringCidrs ?? input.adminCidrs;
    if (problems.length > 0) throw new ConfigValidationError(problems);
    const ssh = input.sshPort ?? SSH_PORT;
    const fromCidrs = (cidrs: readonly string[], target: FirewallTarget, port: number, purpose: string): FirewallRule[] =>
        cidrs.map((cidr) => ({ target, protocol: "tcp", port, source: { kind: "cidr", cidr }, purpose }));
    return {
        ingress: [
            { target: "redis", protocol: "tcp", port: input.redisPort, source: { kind: "cluster" }, purpose: "replication and Sentinel monitoring" },
            ...fromCidrs(input.appCidrs, "redis", input.redisPort, "application clients"),
            { target: "sentinel", protocol: "tcp", port: input.sentinelPort, source: { kind: "cluster" }, purpose: "Sentinels talking to each other" },
            ...fromCidrs(input.appCidrs, "sentinel", input.sentinelPort, "application clients asking for the master"),
            ...fromCidrs(input.adminCidrs, "all", ssh, "operators and the post-deploy checks"),
            ...fromCidrs(monitoring, "redis", REDIS_EXPORTER_PORT, "Prometheus scraping the Redis exporter"),
            ...fromCidrs(monitoring, "sentinel", SENTINEL_EXPORTER_PORT, "Prometheus scraping the Sentinel exporter"),
        ],
        egress: "any",
    };
}

/** The rules a host gets, given what it runs. */
export function rulesFor(policy: FirewallPolicy, host: { redis: boolean; sentinel: boolean }): FirewallRule[] {
    return policy.ingress.filter((r) => r.target === "all" || (r.target === "redis" && host.redis) || (r.target === "sentinel" && host.sentinel));
}

/** Rules that let the whole Internet in; empty unless the user opted in. */
export function worldOpenRules(policy: FirewallPolicy): FirewallRule[] {
    return policy.ingress.filter((r) => r.source.kind === "cidr" && r.source.cidr === WORLD_CIDR);
}

/** Targets present in a plan, so platforms create only the groups that some host needs. */
export function targetsFor(host: { redis: boolean; sentinel: boolean }): FirewallTarget[] {
    return ["all", ...(host.redis ? ["redis" as const] : []), ...(host.sentinel ? ["sentinel" as const] : [])];
}
