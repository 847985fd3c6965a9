import * as pulumi from "@pulumi/pulumi";
import type { AddressDiscovery } from "../../cloud-init/cloudConfig";
import type { FirewallPolicy, FirewallTarget } from "../core/firewallPolicy";
import type { MonitoringOutputs } from "../core/monitoring";
import type { Addressing, HostPlan, TopologyPlan } from "../core/topology";

/** What a platform made for the private network; opaque to the components. */
export interface PlatformNetwork {
    /** Resources a host must wait for (subnets, peerings). */
    readyWhen: pulumi.Resource[];
    /**
     * A private key the platform itself authorised on every host (a secret): what the checks log in
     * with when the user gives none. Only platforms with `providesLoginKey` set it.
     */
    loginPrivateKey?: pulumi.Output<string>;
}

/** What a platform made for the firewall: one handle (security group id, tag name) per target. */
export interface PlatformFirewall {
    handles: Partial<Record<FirewallTarget, pulumi.Output<string>>>;
    readyWhen: pulumi.Resource[];
}

export interface HostRequest {
    plan: HostPlan;
    /** #cloud-config; a secret, since it carries the passwords. */
    userData: pulumi.Output<string>;
    instanceType: string;
    image: string;
    network: PlatformNetwork;
    firewall: PlatformFirewall;
    /** Firewall targets this host belongs to. */
    firewallTargets: FirewallTarget[];
}

export interface PlatformHost {
    name: string;
    resource: pulumi.Resource;
    privateAddress: pulumi.Output<string>;
    publicAddress: pulumi.Output<string>;
}

/**
 * One cloud. Everything provider-specific lives behind this interface; the components never ask
 * which cloud they are on.
 */
export interface Platform {
    readonly name: string;
    /** Whether hosts boot through cloud-init (the checks then wait for it and fail on its errors). */
    readonly bootsWithCloudInit: boolean;
    /** Whether the platform puts a login key of its own on every host (so the user need give none). */
    readonly providesLoginKey: boolean;
    /** static: the plan's addresses are used as given; dynamic: the cloud assigns them. */
    readonly addressing: Addressing;
    /** For dynamic addressing: how a VM learns its own private address at first boot. */
    readonly addressDiscovery?: AddressDiscovery;
    createNetwork(name: string, plan: TopologyPlan, opts: pulumi.CustomResourceOptions): PlatformNetwork;
    createFirewall(name: string, policy: FirewallPolicy, opts: pulumi.CustomResourceOptions): PlatformFirewall;
    /**
     * Creates one VM. Implementations must ignore later changes to the user-data: it is applied
     * once at first boot, and replacing a data node because a template changed would lose its data.
     */
    createHost(request: HostRequest, opts: pulumi.CustomResourceOptions): PlatformHost;
    /**
     * A platform that runs a Prometheus of its own for the deployment (the lab does, so that its
     * stack watches itself) creates it here from the deployment's `monitoring` output, and returns
     * where it answers. Clouds have none: their deployments are scraped by the user's Prometheus
     * (docs/monitoring.md).
     */
    createPrometheus?(name: string, network: PlatformNetwork, monitoring: pulumi.Output<MonitoringOutputs>, opts: pulumi.CustomResourceOptions): { url: pulumi.Output<string> };
}

/** Properties every platform must ignore after creation (see Platform.createHost). */
export const IGNORE_ON_UPDATE = ["userData"];
