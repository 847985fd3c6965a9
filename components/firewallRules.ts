import * as pulumi from "@pulumi/pulumi";
import { ConfigValidationError } from "./core/errors";
import { FirewallPolicy, buildFirewallPolicy } from "./core/firewallPolicy";
import type { Platform, PlatformFirewall } from "./platforms/platform";
import { defaultOf } from "./core/settingsSchema";

export interface FirewallRulesArgs {
    /** The cloud adapter that turns the policy into security groups or Cloud Firewalls. */
    platform: Platform;
    /** IPv4 CIDRs of application servers allowed to reach Redis and Sentinel. Required. */
    appCidrs: string[];
    /** IPv4 CIDRs allowed to reach SSH (operators, and the machine running the checks). Required. */
    adminCidrs: string[];
    /** Redis port. Default 6379. */
    redisPort?: number;
    /** Sentinel port. Default 26379. */
    sentinelPort?: number;
    /** Explicit opt-in to 0.0.0.0/0 in either list. Default false. */
    allowWorldAccess?: boolean;
}

/**
 * Lets in only what must come in: Redis and Sentinel from the app CIDRs and from the cluster
 * itself, SSH from the admin CIDRs. Everything else inbound is dropped.
 */
export class FirewallRules extends pulumi.ComponentResource {
    /** The abstract policy (also what the lab turns into nftables). */
    readonly policy: FirewallPolicy;
    /** Platform handles (security group ids, tags) that hosts attach to. */
    readonly attachment: PlatformFirewall;

    constructor(name: string, args: FirewallRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("redis-ha:index:FirewallRules", name, {}, opts);
        if (!args.appCidrs?.length) throw new pulumi.ResourceError(`FirewallRules ${name}: args.appCidrs is empty; list the application servers' CIDRs (e.g. ["10.42.0.0/24"])`, this);
        if (!args.adminCidrs?.length) throw new pulumi.ResourceError(`FirewallRules ${name}: args.adminCidrs is empty; list the operators' CIDRs (e.g. ["203.0.113.10/32"])`, this);
        try {
            this.policy = buildFirewallPolicy({
                redisPort: args.redisPort ?? defaultOf("redisPort"),
                sentinelPort: args.sentinelPort ?? defaultOf("sentinelPort"),
                appCidrs: args.appCidrs,
                adminCidrs: args.adminCidrs,
                allowWorldAccess: args.allowWorldAccess ?? false,
            });
        } catch (e) {
            if (e instanceof ConfigValidationError) throw new pulumi.ResourceError(`FirewallRules ${name}: ${e.message}`, this);
            throw e;
        }
        this.attachment = args.platform.createFirewall(name, this.policy, { parent: this });
        this.registerOutputs({ policy: this.policy });
    }
}
