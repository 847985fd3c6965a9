/**
 * The topology planner: which VM sits in which zone, with which Redis role, whether it carries a
 * Sentinel, and which private address it gets. Pure and deterministic, so the same settings give
 * the same plan on every preview, and the plan can be printed and tested without a cloud.
 */
import { ConfigValidationError, SettingProblem } from "./errors";
import { Ipv4Cidr, addressAt, cidrSize, parseCidr, subnetAt } from "./cidr";
import type { ZoneKind } from "./regions";
import type { SentinelPlacement } from "./model";
import { STACK_NAMES, SettingNames } from "./settingNames";
import { majorityOf, topologyRules } from "./settingRules";

export { majorityOf } from "./settingRules";

export interface TopologyInput {
    zones: readonly string[];
    replicaCount: number;
    sentinelCount: number;
    sentinelPlacement: SentinelPlacement;
    zoneKind: ZoneKind;
}

/** static: the plan fixes each private address (OpenStack ports); dynamic: the cloud assigns it (DigitalOcean VPC). */
export type Addressing = "static" | "dynamic";

export interface TopologyPlanInput extends TopologyInput {
    /** Prefix of every host name; the component's name, so two deployments can share a stack. */
    namePrefix: string;
    addressing: Addressing;
    privateNetworkCidr: string;
    /** Quorum; defaults to a majority of sentinelCount. */
    quorum?: number;
}

export type RedisRole = "master" | "replica";

export interface HostPlan {
    name: string;
    /** redis: a data node (maybe with a colocated Sentinel); sentinel: a dedicated Sentinel VM. */
    kind: "redis" | "sentinel";
    ordinal: number;
    zone: string;
    /** The private network block this host's zone uses. */
    subnet: string;
    /** Fixed private address, or undefined where the cloud assigns one at creation (dynamic addressing). */
    privateAddress?: string;
    /** The role at creation time. After a failover Sentinel decides; the plan is never re-applied to a live node. */
    redisRole?: RedisRole;
    sentinel: boolean;
}

export interface ZoneSubnet {
    zone: string;
    cidr: string;
    /** First and last address the cloud's DHCP may hand out; fixed addresses stay below it. */
    dhcpStart?: string;
    dhcpEnd?: string;
}

export interface TopologyPlan {
    hosts: HostPlan[];
    master: HostPlan;
    replicas: HostPlan[];
    sentinels: HostPlan[];
    quorum: number;
    zones: string[];
    addressing: Addressing;
    subnets: ZoneSubnet[];
    warnings: string[];
}

/** First fixed address inside a subnet: the low ones are the gateway's and the cloud's. */
export const FIRST_HOST_OFFSET = 11;

function dataZone(input: TopologyInput, ordinal: number): number {
    return ordinal % input.zones.length;
}

/** Dedicated Sentinels start one zone after the master's, so with two zones the majority is away from it. */
function sentinelZone(input: TopologyInput, ordinal: number): number {
    return input.sentinelPlacement === "colocated" ? dataZone(input, ordinal) : (ordinal + 1) % input.zones.length;
}

export interface SpreadCheck {
    problems: SettingProblem[];
    warnings: string[];
}

/**
 * One zone outage must never take the master and a majority of Sentinels together: then nothing
 * is left that may elect a new master, and the outage is total although replicas survive.
 */
export function checkZoneSpread(input: TopologyInput, names: SettingNames = STACK_NAMES): SpreadCheck {
    const problems: SettingProblem[] = [];
    const warnings: string[] = [];
    const distinct = new Set(input.zones);
    if (distinct.size === 1) {
        const zone = input.zones[0];
        if (input.zoneKind === "availability-zone") {
            problems.push({
                setting: names.name("zones"),
                value: names.show(input.zones),
                problem: "puts the master and every Sentinel in one availability zone: losing that zone stops Redis and leaves nobody to fail over",
                fix: names.surface === "stack" ? "list every zone of the region, or remove redis-ha:zones to use them all" : `list every zone of the region in ${names.name("zones")}`,
            });
        } else if (input.zoneKind === "datacenter") {
            warnings.push(`Every node sits in the DigitalOcean datacenter ${zone}: DigitalOcean has no availability zones, so a datacenter outage stops Redis. Add datacenters to ${names.name("zones")} (joined by VPC peering) to survive one.`);
        } else {
            warnings.push(`The region has a single availability zone (${zone}): an anti-affinity group keeps nodes on different hypervisors, but a zone outage stops Redis. Choose a 3-AZ region such as EU-WEST-PAR to survive one.`);
        }
        return { problems, warnings };
    }
    const masterZone = input.zones[dataZone(input, 0)];
    const sentinelsInMasterZone = Array.from({ length: input.sentinelCount }, (_, j) => input.zones[sentinelZone(input, j)]).filter((z) => z === masterZone).length;
    if (sentinelsInMasterZone >= majorityOf(input.sentinelCount)) {
        problems.push({
            setting: names.name("zones"),
            value: names.show(input.zones),
            problem: `zone ${masterZone} would hold the master and ${sentinelsInMasterZone} of ${input.sentinelCount} Sentinels: losing that zone leaves no majority to fail over`,
            fix: `spread over ${input.sentinelCount} zones, or ${names.set("sentinelPlacement", "dedicated")} so the Sentinels' majority sits outside the master's zone`,
        });
    }
    return { problems, warnings };
}

export interface AddressPlan {
    problem?: SettingProblem;
    subnets: Ipv4Cidr[];
}

/** Checks the private network can hold the hosts, and splits it per zone where the cloud needs that. */
export function planAddresses(addressing: Addressing, cidrText: string, hostCount: number, zoneCount: number, names: SettingNames = STACK_NAMES): AddressPlan {
    const setting = names.name("privateNetworkCidr");
    const value = names.show(cidrText);
    const parsed = parseCidr(cidrText);
    if (!parsed.ok) {
        return { subnets: [], problem: { setting, value, problem: `is not a valid IPv4 CIDR: it ${parsed.reason}`, fix: names.set("privateNetworkCidr", "10.42.0.0/24") } };
    }
    const cidr = parsed.cidr;
    if (cidr.prefix < 16 || cidr.prefix > 28) {
        return { subnets: [], problem: { setting, value, problem: "must be between /16 and /28", fix: names.set("privateNetworkCidr", "10.42.0.0/24") } };
    }
    if (addressing === "static") {
        // Fixed addresses live in the lower half; DHCP gets the upper half, so the two never collide.
        const room = cidrSize(cidr) / 2 - FIRST_HOST_OFFSET;
        if (hostCount > room) {
            return { subnets: [], problem: { setting, value, problem: `has room for ${Math.max(0, room)} fixed addresses but the plan needs ${hostCount}`, fix: "use a larger block such as 10.42.0.0/24" } };
        }
        return { subnets: [cidr] };
    }
    if (zoneCount === 1) return { subnets: [cidr] };
    const prefix = cidr.prefix + 2;
    if (prefix > 28) {
        return { subnets: [], problem: { setting, value, problem: `is too small to split into one /${prefix} VPC per datacenter (DigitalOcean's smallest VPC is /28)`, fix: "use a /24 or larger, e.g. 10.42.0.0/24" } };
    }
    return { subnets: Array.from({ length: zoneCount }, (_, i) => subnetAt(cidr, prefix, i)) };
}

/** The plan for validated settings; `names` are the words a problem is reported in (the component's args). */
export function planTopology(input: TopologyPlanInput, names: SettingNames = STACK_NAMES): TopologyPlan {
    const spread = checkZoneSpread(input, names);
    const hostCount = input.replicaCount + 1 + (input.sentinelPlacement === "dedicated" ? input.sentinelCount : 0);
    const addresses = planAddresses(input.addressing, input.privateNetworkCidr, hostCount, input.zones.length, names);
    const problems = [...topologyRules(input, names), ...spread.problems, ...(addresses.problem ? [addresses.problem] : [])];
    const quorum = input.quorum ?? majorityOf(input.sentinelCount);
    if (problems.length > 0) throw new ConfigValidationError(problems);

    const subnetOf = (zoneIndex: number) => addresses.subnets[input.addressing === "static" ? 0 : zoneIndex % addresses.subnets.length];
    let nextOffset = FIRST_HOST_OFFSET;
    const host = (kind: HostPlan["kind"], ordinal: number, zoneIndex: number): HostPlan => {
        const subnet = subnetOf(zoneIndex);
        return {
            name: `${input.namePrefix}-${kind}-${ordinal}`,
            kind,
            ordinal,
            zone: input.zones[zoneIndex],
            subnet: subnet.text,
            privateAddress: input.addressing === "static" ? addressAt(subnet, nextOffset++) : undefined,
            sentinel: kind === "sentinel",
        };
    };
    const redisHosts = Array.from({ length: input.replicaCount + 1 }, (_, i) => ({
        ...host("redis", i, dataZone(input, i)),
        redisRole: (i === 0 ? "master" : "replica") as RedisRole,
        sentinel: input.sentinelPlacement === "colocated" && i < input.sentinelCount,
    }));
    const dedicated = input.sentinelPlacement === "dedicated"
        ? Array.from({ length: input.sentinelCount }, (_, j) => host("sentinel", j, sentinelZone(input, j)))
        : [];
    const hosts = [...redisHosts, ...dedicated];
    const subnets: ZoneSubnet[] = input.addressing === "static"
        ? [{ zone: "*", cidr: addresses.subnets[0].text, dhcpStart: addressAt(addresses.subnets[0], cidrSize(addresses.subnets[0]) / 2), dhcpEnd: addressAt(addresses.subnets[0], cidrSize(addresses.subnets[0]) - 2) }]
        : input.zones.map((zone, i) => ({ zone, cidr: subnetOf(i).text }));
    return {
        hosts,
        master: redisHosts[0],
        replicas: redisHosts.slice(1),
        sentinels: hosts.filter((h) => h.sentinel),
        quorum,
        zones: [...input.zones],
        addressing: input.addressing,
        subnets,
        warnings: spread.warnings,
    };
}
