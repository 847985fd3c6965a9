import * as digitalocean from "@pulumi/digitalocean";
import * as pulumi from "@pulumi/pulumi";
import type { AddressDiscovery } from "../../cloud-init/cloudConfig";
import type { FirewallPolicy, FirewallTarget } from "../core/firewallPolicy";
import type { TopologyPlan } from "../core/topology";
import { HostRequest, IGNORE_ON_UPDATE, Platform, PlatformFirewall, PlatformHost, PlatformNetwork } from "./platform";

export interface DigitalOceanPlatformArgs {
    /** Enable DigitalOcean's monitoring agent on the droplets. Default true. */
    monitoring?: boolean;
}

interface DigitalOceanNetwork extends PlatformNetwork {
    vpcIdByZone: Map<string, pulumi.Output<string>>;
}

/** DigitalOcean's metadata service gives a droplet its own VPC address. */
export const DIGITALOCEAN_ADDRESS_DISCOVERY: AddressDiscovery = {
    command: "curl -fsS --retry 10 --retry-delay 2 --max-time 5 http://169.254.169.254/metadata/v1/interfaces/private/0/ipv4/address",
};

/**
 * DigitalOcean: one VPC per datacenter (joined by VPC peering when there are several), droplets
 * tagged by role, and one Cloud Firewall per role tag. DigitalOcean assigns private addresses
 * itself, so configs learn theirs at first boot and replicas learn the master's from its droplet.
 */
export class DigitalOceanPlatform implements Platform {
    readonly name = "digitalocean";
    readonly addressing = "dynamic" as const;
    readonly bootsWithCloudInit = true;
    readonly providesLoginKey = false;
    readonly addressDiscovery = DIGITALOCEAN_ADDRESS_DISCOVERY;

    constructor(private readonly args: DigitalOceanPlatformArgs = {}) {}

    createNetwork(name: string, plan: TopologyPlan, opts: pulumi.CustomResourceOptions): DigitalOceanNetwork {
        const vpcs = plan.subnets.map((s) => ({
            zone: s.zone,
            vpc: new digitalocean.Vpc(`${name}-vpc-${s.zone}`, { name: `${name}-vpc-${s.zone}`, region: s.zone, ipRange: s.cidr }, opts),
        }));
        const peerings: digitalocean.VpcPeering[] = [];
        for (let i = 0; i < vpcs.length; i++) {
            for (let j = i + 1; j < vpcs.length; j++) {
                peerings.push(new digitalocean.VpcPeering(`${name}-peer-${vpcs[i].zone}-${vpcs[j].zone}`, {
                    name: `${name}-peer-${vpcs[i].zone}-${vpcs[j].zone}`,
                    vpcIds: [vpcs[i].vpc.id, vpcs[j].vpc.id],
                }, opts));
            }
        }
        return {
            readyWhen: [...vpcs.map((v) => v.vpc), ...peerings],
            vpcIdByZone: new Map(vpcs.map((v) => [v.zone, v.vpc.id])),
        };
    }

    createFirewall(name: string, policy: FirewallPolicy, opts: pulumi.CustomResourceOptions): PlatformFirewall {
        const targets: FirewallTarget[] = ["all", "redis", "sentinel"];
        const tags = Object.fromEntries(targets.map((t) => [t, new digitalocean.Tag(`${name}-${t}`, { name: `${name}-${t}` }, opts)])) as Record<FirewallTarget, digitalocean.Tag>;
        // A Cloud Firewall denies any outbound traffic it does not list; first boot needs the package mirror.
        const outboundRules = ["tcp", "udp"].map((protocol) => ({ protocol, portRange: "1-65535", destinationAddresses: ["0.0.0.0/0", "::/0"] }));
        const firewalls = targets.map((target) => new digitalocean.Firewall(`${name}-${target}`, {
            name: `${name}-${target}`,
            tags: [tags[target].name],
            inboundRules: policy.ingress.filter((r) => r.target === target).map((r) => ({
                protocol: r.protocol,
                portRange: String(r.port),
                sourceAddresses: r.source.kind === "cidr" ? [r.source.cidr] : undefined,
                sourceTags: r.source.kind === "cluster" ? [tags.all.name] : undefined,
            })),
            outboundRules: target === "all" ? [...outboundRules, { protocol: "icmp", destinationAddresses: ["0.0.0.0/0", "::/0"] }] : [],
        }, opts));
        return { handles: Object.fromEntries(targets.map((t) => [t, tags[t].name])), readyWhen: firewalls };
    }

    createHost(request: HostRequest, opts: pulumi.CustomResourceOptions): PlatformHost {
        const network = request.network as DigitalOceanNetwork;
        const vpcId = network.vpcIdByZone.get(request.plan.zone);
        if (!vpcId) throw new Error(`${request.plan.name}: no VPC for datacenter ${request.plan.zone}`);
        const droplet = new digitalocean.Droplet(request.plan.name, {
            name: request.plan.name,
            region: request.plan.zone,
            size: request.instanceType,
            image: request.image,
            vpcUuid: vpcId,
            userData: request.userData,
            tags: request.firewallTargets.map((t) => request.firewall.handles[t]!),
            monitoring: this.args.monitoring ?? true,
            ipv6: false,
        }, { ...opts, ignoreChanges: IGNORE_ON_UPDATE });
        return {
            name: request.plan.name,
            resource: droplet,
            privateAddress: droplet.ipv4AddressPrivate,
            publicAddress: droplet.ipv4Address,
        };
    }
}
