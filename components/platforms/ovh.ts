import * as ovh from "@ovhcloud/pulumi-ovh";
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import type { FirewallPolicy, FirewallSource, FirewallTarget } from "../core/firewallPolicy";
import type { TopologyPlan } from "../core/topology";
import { HostRequest, IGNORE_ON_UPDATE, Platform, PlatformFirewall, PlatformHost, PlatformNetwork } from "./platform";
import { formatProblem } from "../core/errors";
import { componentNames } from "../core/settingNames";
import { argValues, regionProblem } from "../core/settingRules";
import { SETTINGS_BY_KEY, defaultOf } from "../core/settingsSchema";

export interface OvhPlatformArgs {
    /** OVHcloud Public Cloud project id (the API's serviceName). Required. */
    projectId: string;
    /** OVHcloud region, e.g. EU-WEST-PAR. Required. */
    region: string;
    /** vRack VLAN id of the private network. Default 0. */
    vlanId?: number;
    /** Name of the public network. Default "Ext-Net" (OVHcloud's). */
    publicNetworkName?: string;
}

interface OvhNetwork extends PlatformNetwork {
    networkId: pulumi.Output<string>;
    subnetId: pulumi.Output<string>;
    serverGroupId: pulumi.Output<string>;
    publicNetworkId: pulumi.Output<string>;
}

function ruleSourceSlug(source: FirewallSource): string {
    return source.kind === "cluster" ? "cluster" : source.cidr.replace(/[./]/g, "-");
}

/**
 * OVHcloud Public Cloud: a vRack private network and subnet (OVH provider), and OpenStack for the
 * rest: one port per interface with a fixed private address, security groups on every port, an
 * anti-affinity server group, instances pinned to their availability zone.
 */
export class OvhPlatform implements Platform {
    readonly name = "ovh";
    readonly addressing = "static" as const;
    readonly bootsWithCloudInit = true;
    readonly providesLoginKey = false;

    /** Checks the args by the stack's own rules (redis-ha:ovhProjectId, region, ovhVlanId), in the args' names, before any resource exists. */
    constructor(private readonly args: OvhPlatformArgs) {
        const names = componentNames("OvhPlatform");
        const { problems } = argValues("OvhPlatform", args, names);
        if (args.projectId === undefined) {
            problems.push({ setting: names.name("ovhProjectId"), value: names.show(undefined), problem: "is required", fix: names.set("ovhProjectId", SETTINGS_BY_KEY.get("ovhProjectId")!.example!) });
        }
        const region = typeof args.region === "string" ? regionProblem("ovh", args.region, names) : undefined;
        if (region) problems.push(region);
        if (problems.length === 1) throw new Error(`OvhPlatform: ${formatProblem(problems[0])}`);
        if (problems.length > 1) throw new Error(`OvhPlatform: ${problems.length} invalid args; nothing was created.\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`);
    }

    createNetwork(name: string, plan: TopologyPlan, opts: pulumi.CustomResourceOptions): OvhNetwork {
        const { projectId, region } = this.args;
        const subnetPlan = plan.subnets[0];
        const network = new ovh.cloudproject.NetworkPrivate(`${name}-net`, {
            serviceName: projectId,
            name: `${name}-net`,
            regions: [region],
            vlanId: this.args.vlanId ?? defaultOf("ovhVlanId"),
        }, opts);
        const subnet = new ovh.cloudproject.NetworkPrivateSubnet(`${name}-subnet`, {
            serviceName: projectId,
            networkId: network.id,
            region,
            network: subnetPlan.cidr,
            // DHCP hands out the upper half only; the planner's fixed addresses live below it.
            start: subnetPlan.dhcpStart!,
            end: subnetPlan.dhcpEnd!,
            dhcp: true,
            noGateway: true,
        }, opts);
        const serverGroup = new openstack.compute.ServerGroup(`${name}-anti-affinity`, {
            name: `${name}-anti-affinity`,
            region,
            // Never two nodes on one hypervisor: the only spread a single-AZ region offers, and cheap insurance in a 3-AZ one.
            policies: ["anti-affinity"],
        }, opts);
        const publicNetwork = openstack.networking.getNetworkOutput({ name: this.args.publicNetworkName ?? "Ext-Net", region }, opts);
        return {
            readyWhen: [subnet, serverGroup],
            networkId: network.regionsAttributes.apply((regions) => {
                const match = regions?.find((r) => r.region === region);
                if (!match) throw new Error(`the OVH private network has no OpenStack id in ${region}`);
                return match.openstackid;
            }),
            subnetId: subnet.id,
            serverGroupId: serverGroup.id,
            publicNetworkId: publicNetwork.id,
        };
    }

    createFirewall(name: string, policy: FirewallPolicy, opts: pulumi.CustomResourceOptions): PlatformFirewall {
        const region = this.args.region;
        const targets: FirewallTarget[] = ["all", "redis", "sentinel"];
        const groups = Object.fromEntries(targets.map((target) => [target, new openstack.networking.SecGroup(`${name}-${target}`, {
            name: `${name}-${target}`,
            description: `redis-ha ${name}: ${target === "all" ? "every host" : `${target} hosts`}`,
            region,
        }, opts)])) as Record<FirewallTarget, openstack.networking.SecGroup>;
        // "From the cluster" means from any host of this deployment, i.e. a member of the "all" group.
        // Named by content, not position: adding a CIDR must not rename (and so replace) the other rules.
        const rules = policy.ingress.map((rule) => new openstack.networking.SecGroupRule(`${name}-${rule.target}-${rule.port}-from-${ruleSourceSlug(rule.source)}`, {
            securityGroupId: groups[rule.target].id,
            direction: "ingress",
            ethertype: "IPv4",
            protocol: rule.protocol,
            portRangeMin: rule.port,
            portRangeMax: rule.port,
            remoteIpPrefix: rule.source.kind === "cidr" ? rule.source.cidr : undefined,
            remoteGroupId: rule.source.kind === "cluster" ? groups.all.id : undefined,
            description: rule.purpose,
            region,
        }, opts));
        return {
            handles: Object.fromEntries(targets.map((t) => [t, groups[t].id])),
            readyWhen: rules,
        };
    }

    createHost(request: HostRequest, opts: pulumi.CustomResourceOptions): PlatformHost {
        const network = request.network as OvhNetwork;
        const region = this.args.region;
        const name = request.plan.name;
        const securityGroupIds = request.firewallTargets.map((t) => request.firewall.handles[t]!);
        const privatePort = new openstack.networking.Port(`${name}-private`, {
            name: `${name}-private`,
            networkId: network.networkId,
            fixedIps: [{ subnetId: network.subnetId, ipAddress: request.plan.privateAddress! }],
            securityGroupIds,
            region,
        }, opts);
        const publicPort = new openstack.networking.Port(`${name}-public`, {
            name: `${name}-public`,
            networkId: network.publicNetworkId,
            securityGroupIds,
            region,
        }, opts);
        const instance = new openstack.compute.Instance(name, {
            name,
            region,
            availabilityZone: request.plan.zone,
            flavorName: request.instanceType,
            imageName: request.image,
            userData: request.userData,
            networks: [{ port: publicPort.id }, { port: privatePort.id }],
            schedulerHints: [{ group: network.serverGroupId }],
            metadata: { "redis-ha-role": request.plan.redisRole ?? "sentinel", "redis-ha-zone": request.plan.zone },
        // A new flavor would resize in place, rebooting every node at once; as a replacement it goes
        // through the handoffs, one node at a time.
        }, { ...opts, ignoreChanges: IGNORE_ON_UPDATE, replaceOnChanges: ["flavorName"] });
        return {
            name,
            resource: instance,
            privateAddress: pulumi.output(request.plan.privateAddress!),
            publicAddress: instance.accessIpV4,
        };
    }
}
