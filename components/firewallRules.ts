import * as pulumi from "@pulumi/pulumi";
import { ConfigValidationError, formatProblem } from "./core/errors";
import { FirewallPolicy, buildFirewallPolicy } from "./core/firewallPolicy";
import type { Platform, PlatformFirewall } from "./platforms/platform";
import { componentNames } from "./core/settingNames";
import { argValues, crossSettingRules } from "./core/settingRules";

export interface FirewallRulesArgs {
    /** The cloud adapter that turns the policy into security groups or Cloud Firewalls. */
    platform: Platform;
    /** IPv4 CIDRs of application servers allowed to reach Redis and Sentinel. Required. */
    appCidrs: string[];
    /** IPv4 CIDRs allowed to reach SSH (operators, and the machine running the checks). Required. */
    adminCidrs: string[];
    /**
     * IPv4 CIDRs of the Prometheus servers allowed to scrape the exporters (Redis 9121, Sentinel 9122).
     * Default: adminCidrs.
     */
    monitoringCidrs?: string[];
    /** Redis port. Default 6379. */
    redisPort?: number;
    /** Sentinel port. Default 26379. */
    sentinelPort?: number;
    /**
     * Explicit opt-in to a port open to more than 65,536 public IPv4 addresses (a /16's worth,
     * counted over every block that reaches the port, however split). Default false.
     */
    allowWorldAccess?: boolean;
}

/**
 * Lets in only what must come in: Redis and Sentinel from the app CIDRs and from the cluster
 * itself, SSH from the admin CIDRs, the exporters from the monitoring CIDRs. Everything else inbound
 * is dropped.
 */
export class FirewallRules extends pulumi.ComponentResource {
    /** The abstract policy (also what the lab turns into nftables). */
    readonly policy: FirewallPolicy;
    /** Platform handles (security group ids, tags) that hosts attach to. */
    readonly attachment: PlatformFirewall;

    constructor(name: string, args: FirewallRulesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("redis-ha:index:FirewallRules", name, {}, opts);
        const fail = (problems: readonly { setting: string; value: string; problem: string; fix: string }[]): never => {
            throw new pulumi.ResourceError(`FirewallRules ${name}: ${problems.length === 1 ? formatProblem(problems[0]) : `${problems.length} invalid args; nothing was created.\n${problems.map((p) => `  - ${formatProblem(p)}`).join("\n")}`}`, this);
        };
        // The stack's settings model and rules, in the args' names.
        const names = componentNames("FirewallRules");
        const { values, problems } = argValues("FirewallRules", args, names);
        for (const key of ["appCidrs", "adminCidrs"] as const) {
            if (args[key] === undefined) problems.push({ setting: names.name(key), value: "(unset)", problem: "is required", fix: names.add(key, key === "appCidrs" ? "10.42.0.0/24" : "203.0.113.10/32") });
        }
        problems.push(...crossSettingRules({ redisPort: values.redisPort, sentinelPort: values.sentinelPort }, names).problems);
        if (problems.length > 0) fail(problems);
        try {
            this.policy = buildFirewallPolicy({
                redisPort: values.redisPort!,
                sentinelPort: values.sentinelPort!,
                appCidrs: args.appCidrs,
                adminCidrs: args.adminCidrs,
                monitoringCidrs: args.monitoringCidrs,
                allowWorldAccess: values.allowWorldAccess,
            }, names);
        } catch (e) {
            if (e instanceof ConfigValidationError) fail(e.problems);
            throw e;
        }
        this.attachment = args.platform.createFirewall(name, this.policy, { parent: this });
        this.registerOutputs({ policy: this.policy });
    }
}
