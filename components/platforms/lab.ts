import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { renderNftables } from "../../cloud-init/nftables";
import type { FirewallPolicy, FirewallRule, FirewallTarget } from "../core/firewallPolicy";
import type { TopologyPlan } from "../core/topology";
import type { LabSpec } from "../../lab/machine";
import { planLabNetwork } from "../../lab/network";
import { CheckRequest, HostRequest, IGNORE_ON_UPDATE, Platform, PlatformCheck, PlatformFirewall, PlatformHost, PlatformNetwork } from "./platform";

export interface LabPlatformArgs {
    /** Lab id: names its state directory and its link into this machine's namespace. Required. */
    id: string;
    /** Application CIDRs (one must lie inside the private network: the app namespace goes there). Required. */
    appCidrs: string[];
    /** Admin CIDRs (one must lie inside the private network: the admin namespace and this machine's link go there). Required. */
    adminCidrs: string[];
    /** Redis port. Default 6379. */
    redisPort?: number;
    /** Sentinel port. Default 26379. */
    sentinelPort?: number;
    /** Where lab state lives. Default <repo>/.state/lab. */
    stateRoot?: string;
}

const REPO_ROOT = path.resolve(__dirname, "../..");

/**
 * Runs one lab engine action in a child process. The dynamic provider below is serialised by
 * Pulumi and run by its own provider host, so it carries only strings and calls the lab's real
 * code (lab/engine.ts) the way a cloud provider calls its API.
 */
const labProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs) {
        const action = { network: "network-up", host: "host-up", check: "check" }[inputs.kind as string];
        const request = JSON.parse(inputs.request);
        if (inputs.userData !== undefined) request.userData = inputs.userData;
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { spawnSync } = require("child_process");
        const result = spawnSync(process.execPath, [`${inputs.repoRoot}/node_modules/ts-node/dist/bin.js`, "--transpile-only", `${inputs.repoRoot}/lab/engine.ts`, action], {
            input: JSON.stringify(request),
            encoding: "utf8",
            cwd: inputs.repoRoot,
            timeout: 1000 * (Number(request.timeoutSeconds ?? 60) + 120),
            maxBuffer: 64 * 1024 * 1024,
        });
        if (result.status !== 0) throw new Error((result.stderr || String(result.error ?? `lab ${action} exited ${result.status}`)).trim());
        const answer = JSON.parse(result.stdout || "{}");
        return { id: `${inputs.kind}:${inputs.name}`, outs: { ...inputs, stdout: answer.stdout ?? "" } };
    },
    async delete(_id, props) {
        const action = { network: "network-down", host: "host-down" }[props.kind as string];
        if (!action) return;
        // eslint-disable-next-line @typescript-eslint/no-var-requires
        const { spawnSync } = require("child_process");
        const result = spawnSync(process.execPath, [`${props.repoRoot}/node_modules/ts-node/dist/bin.js`, "--transpile-only", `${props.repoRoot}/lab/engine.ts`, action], {
            input: props.request,
            encoding: "utf8",
            cwd: props.repoRoot,
            timeout: 120000,
        });
        if (result.status !== 0) throw new Error((result.stderr || `lab ${action} exited ${result.status}`).trim());
    },
};

interface LabResourceArgs {
    kind: "network" | "host" | "check";
    name: string;
    request: pulumi.Input<string>;
    userData?: pulumi.Input<string>;
}

class LabResource extends pulumi.dynamic.Resource {
    declare readonly stdout: pulumi.Output<string>;

    constructor(name: string, args: LabResourceArgs, opts: pulumi.CustomResourceOptions) {
        // A lab object cannot exist twice under one name (namespaces, links): delete before replacing.
        super(labProvider, name, { ...args, repoRoot: REPO_ROOT, stdout: undefined }, { ...opts, deleteBeforeReplace: true });
    }
}

interface LabPulumiNetwork extends PlatformNetwork {
    spec: LabSpec;
}

/**
 * The lab as a Pulumi platform: the network and every host are resources of the stack, created and
 * deleted by the engine like VMs, and the checks SSH from this machine into the hosts over the lab's
 * operator link, as they would into a cloud's VMs.
 */
export class LabPlatform implements Platform {
    readonly name = "lab";
    readonly addressing = "static" as const;
    readonly bootsWithCloudInit = false;
    readonly providesLoginKey = true;

    constructor(private readonly args: LabPlatformArgs) {
        if (!/^[a-z0-9][a-z0-9-]{0,11}$/.test(args.id)) throw new Error(`LabPlatform: args.id ${JSON.stringify(args.id)} must be 1-12 lowercase letters, digits or '-'`);
    }

    createNetwork(name: string, plan: TopologyPlan, opts: pulumi.CustomResourceOptions): LabPulumiNetwork {
        const spec: LabSpec = {
            id: this.args.id,
            dir: path.join(this.args.stateRoot ?? path.join(REPO_ROOT, ".state", "lab"), this.args.id),
            namePrefix: name,
            network: planLabNetwork(plan, name, { appCidrs: this.args.appCidrs, adminCidrs: this.args.adminCidrs }),
            redisPort: this.args.redisPort ?? 6379,
            sentinelPort: this.args.sentinelPort ?? 26379,
            rootLink: { address: "", device: `rl-${this.args.id}` },
        };
        spec.rootLink!.address = spec.network.operatorAddress;
        const network = new LabResource(`${name}-lab-network`, { kind: "network", name, request: JSON.stringify({ spec }) }, opts);
        return { readyWhen: [network], spec };
    }

    createFirewall(_name: string, policy: FirewallPolicy, _opts: pulumi.CustomResourceOptions): PlatformFirewall {
        // nftables are per host, rendered at host creation from the policy: nothing to create up front.
        const targets: FirewallTarget[] = ["all", "redis", "sentinel"];
        return {
            handles: Object.fromEntries(targets.map((t) => [t, pulumi.output(JSON.stringify(policy.ingress.filter((r) => r.target === t)))])),
            readyWhen: [],
        };
    }

    createHost(request: HostRequest, opts: pulumi.CustomResourceOptions): PlatformHost {
        const network = request.network as LabPulumiNetwork;
        const host = network.spec.network.hosts.find((h) => h.namespace === request.plan.name);
        if (!host) throw new Error(`${request.plan.name} is not in the lab's network plan`);
        const rules = pulumi.all(request.firewallTargets.map((t) => request.firewall.handles[t]!)).apply((lists) => lists.flatMap((l) => JSON.parse(l) as FirewallRule[]));
        const nftables = rules.apply((r) => renderNftables({ hostName: host.namespace, rules: r, clusterAddresses: network.spec.network.hosts.map((h) => h.address) }));
        const resource = new LabResource(request.plan.name, {
            kind: "host",
            name: request.plan.name,
            request: nftables.apply((n) => JSON.stringify({ spec: network.spec, host, nftables: n })),
            userData: request.userData,
        }, { ...opts, ignoreChanges: IGNORE_ON_UPDATE });
        return { name: request.plan.name, resource, privateAddress: pulumi.output(host.address), publicAddress: pulumi.output(host.address) };
    }

    createCheck(name: string, request: CheckRequest, opts: pulumi.CustomResourceOptions): PlatformCheck {
        const network = request.network as LabPulumiNetwork;
        const address = request.via === "private" ? request.host.privateAddress : request.host.publicAddress;
        const check = new LabResource(name, {
            kind: "check",
            name,
            request: pulumi.all([address, request.script]).apply(([a, script]) => JSON.stringify({ spec: network.spec, address: a, user: request.user, script, timeoutSeconds: request.timeoutSeconds })),
        }, opts);
        return { resource: check, stdout: check.stdout };
    }
}
