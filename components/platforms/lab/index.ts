import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { renderNftables } from "../../../cloud-init/nftables";
import type { FirewallPolicy, FirewallRule, FirewallTarget } from "../../core/firewallPolicy";
import type { MonitoringOutputs } from "../../core/monitoring";
import type { TopologyPlan } from "../../core/topology";
import type { LabSpec } from "./machine";
import { planLabNetwork } from "./network";
import { HostRequest, IGNORE_ON_UPDATE, Platform, PlatformFirewall, PlatformHost, PlatformNetwork } from "../platform";
import { defaultOf } from "../../core/settingsSchema";

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
    /** Where lab state lives (a directory per lab id; the lab runs as root). Default /var/lib/redis-ha-lab. */
    stateRoot?: string;
}

/** Where the lab keeps each lab's files (pid files, data, keys), by lab id: the lab runs as root, and not under a checkout that may move. */
export const DEFAULT_LAB_STATE_ROOT = "/var/lib/redis-ha-lab";

/**
 * The Pulumi engine's view of a lab object. The dynamic provider below is serialised by Pulumi and
 * run by its own provider host, so it carries only strings and calls the lab's real code
 * (engine.ts) in a child process, the way a cloud provider calls its API.
 *
 * The engine is found when it is called, never recorded: Pulumi keeps a dynamic provider's code in
 * the stack's state and runs that copy for `pulumi destroy`, so a path captured here would break as
 * soon as the project or the package moved. Providers run in the project's directory, where an
 * installed redis-ha resolves by name; redis-ha's own checkout runs the TypeScript source.
 */
function callLabEngine(action: string, request: string, timeoutMs: number): Record<string, string> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { spawnSync } = require("child_process");
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { join } = require("path");
    const project = process.cwd();
    let engine: string[];
    try {
        engine = [require.resolve("redis-ha/lab/engine", { paths: [project] })];
    } catch {
        engine = [join(project, "node_modules/ts-node/dist/bin.js"), "--transpile-only", join(project, "components/platforms/lab/engine.ts")];
    }
    const result = spawnSync(process.execPath, [...engine, action], {
        input: request,
        encoding: "utf8",
        cwd: project,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) throw new Error((result.stderr || String(result.error ?? `lab ${action} exited ${result.status}`)).trim());
    return JSON.parse(result.stdout || "{}");
}

/**
 * What a changed input does to a running lab object: a host's firewall is reloaded in place; the
 * network's addresses and a host's identity cannot change under running processes, and are refused
 * at preview with the reason (never a silent teardown of every host). Returns the refusal, if any.
 */
function labChangeRefusal(kind: string, olds: Record<string, string>, news: Record<string, string>): string | undefined {
    const before = JSON.parse(olds.request);
    const after = JSON.parse(news.request);
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    // The state directory follows the checkout; moving it is not a change of the lab itself. Hosts
    // come and go with replicaCount (each is a resource of its own); those that stay must not move.
    const withoutHosts = (spec: LabSpec) => ({ ...spec, dir: undefined, network: { ...spec.network, hosts: undefined } });
    const [was, will] = [withoutHosts(before.spec), withoutHosts(after.spec)] as Array<Record<string, unknown>>;
    const changed = Object.keys({ ...was, ...will }).filter((k) => !same(was[k], will[k]));
    const kept = (after.spec as LabSpec).network.hosts.filter((h) => (before.spec as LabSpec).network.hosts.some((o) => o.namespace === h.namespace));
    const moved = kept.filter((h) => !same(h, (before.spec as LabSpec).network.hosts.find((o) => o.namespace === h.namespace)));
    if (moved.length > 0) changed.push(`the address or plan of ${moved.map((h) => h.namespace).join(", ")}`);
    if (changed.length > 0) {
        return `lab ${news.name}: ${changed.join(", ")} of the lab network would change (for example privateNetworkCidr, appCidrs, adminCidrs or a port), which cannot be done under running hosts. Undo the change, or run \`npm run lab:destroy\` and then \`npm run lab:up\` for a new lab (its data is lost).`;
    }
    if (kind === "host" && !same(before.host, after.host)) {
        return `lab ${news.name}: the host's plan changed (role, address or zone), which a running lab host cannot take in place. Undo the change, or destroy and recreate the lab.`;
    }
    return undefined;
}

const labProvider: pulumi.dynamic.ResourceProvider = {
    async create(inputs) {
        const action = { network: "network-up", host: "host-up", prometheus: "prometheus-up" }[inputs.kind as string]!;
        const request = JSON.parse(inputs.request);
        if (inputs.userData !== undefined) request.userData = inputs.userData;
        const answer = callLabEngine(action, JSON.stringify(request), 180000);
        // A new id for every creation, as a cloud gives a new VM: what depends on the host (its
        // handoff, the checks) sees a replaced host as a new one.
        return { id: `${inputs.kind}:${inputs.name}:${Date.now().toString(36)}`, outs: { ...inputs, ...answer } };
    },
    async diff(_id, olds, news) {
        // What a VM is booted from: a new value replaces the host, as on a cloud (the lab boots every
        // host from this machine's binaries whatever the name; a replacement is what it proves).
        // A host recorded before these were inputs has none: that is not a change.
        const replaces = ["image", "instanceType"].filter((k) => olds[k] !== undefined && olds[k] !== news[k]);
        if (replaces.length > 0) return { changes: true, replaces, deleteBeforeReplace: true };
        const refusal = labChangeRefusal(news.kind, olds, news);
        if (refusal) throw new Error(refusal);
        // Stacks made before the engine was found at call time recorded the checkout's path (repoRoot); it is not compared.
        const changed = ["request"].filter((k) => olds[k] !== news[k]);
        return { changes: changed.length > 0, replaces: [] };
    },
    async update(_id, olds, news) {
        // diff has refused everything but what can change in place: a host's firewall rules, and what
        // the lab's Prometheus scrapes and evaluates (reloaded in place, its history kept).
        if (news.kind === "host" && JSON.parse(olds.request).nftables !== JSON.parse(news.request).nftables) {
            callLabEngine("host-firewall", news.request, 60000);
        }
        if (news.kind === "prometheus") callLabEngine("prometheus-up", news.request, 120000);
        // Outputs that only creation produces (the login key, Prometheus's address) are kept, not lost in the update.
        const created = Object.fromEntries(["loginPrivateKey", "loginPublicKey", "url"].filter((k) => olds[k] !== undefined).map((k) => [k, olds[k]]));
        return { outs: { ...news, ...created } };
    },
    async delete(_id, props) {
        const action = { network: "network-down", host: "host-down", prometheus: "prometheus-down" }[props.kind as string];
        if (action) callLabEngine(action, props.request, 120000);
    },
};

interface LabResourceArgs {
    kind: "network" | "host" | "prometheus";
    name: string;
    request: pulumi.Input<string>;
    userData?: pulumi.Input<string>;
    /** host only: what it is "booted" from; a change replaces it. */
    image?: string;
    instanceType?: string;
}

class LabResource extends pulumi.dynamic.Resource {
    /** network only: the private key the lab authorised on every host (a secret). */
    declare readonly loginPrivateKey: pulumi.Output<string>;
    /** prometheus only: where it answers. */
    declare readonly url: pulumi.Output<string>;

    constructor(name: string, args: LabResourceArgs, opts: pulumi.CustomResourceOptions) {
        super(labProvider, name, { ...args, loginPrivateKey: undefined, url: undefined }, {
            ...opts,
            additionalSecretOutputs: ["loginPrivateKey", "userData"],
            // A lab object cannot exist twice under one name (namespaces, links).
            deleteBeforeReplace: true,
        });
    }
}

interface LabPulumiNetwork extends PlatformNetwork {
    spec: LabSpec;
}

/**
 * The lab as a Pulumi platform: the network and every host are resources of the stack, created and
 * deleted by the engine like VMs. The checks are SentinelQuorum's remote.Command resources, as on
 * every cloud: they SSH from this machine into the hosts over the lab's operator link, with the key
 * the lab's network resource generated and authorised on every host.
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
            dir: path.join(this.args.stateRoot ?? DEFAULT_LAB_STATE_ROOT, this.args.id),
            namePrefix: name,
            network: planLabNetwork(plan, name, { appCidrs: this.args.appCidrs, adminCidrs: this.args.adminCidrs }),
            redisPort: this.args.redisPort ?? defaultOf("redisPort"),
            sentinelPort: this.args.sentinelPort ?? defaultOf("sentinelPort"),
            rootLink: { address: "", device: `rl-${this.args.id}` },
        };
        spec.rootLink!.address = spec.network.operatorAddress;
        const network = new LabResource(`${name}-lab-network`, { kind: "network", name, request: JSON.stringify({ spec }) }, opts);
        return { readyWhen: [network], spec, loginPrivateKey: network.loginPrivateKey };
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
            image: request.image,
            instanceType: request.instanceType,
        }, { ...opts, ignoreChanges: IGNORE_ON_UPDATE });
        return { name: request.plan.name, resource, privateAddress: pulumi.output(host.address), publicAddress: pulumi.output(host.address) };
    }

    createPrometheus(name: string, network: PlatformNetwork, monitoring: pulumi.Output<MonitoringOutputs>, opts: pulumi.CustomResourceOptions): { url: pulumi.Output<string> } {
        const { spec } = network as LabPulumiNetwork;
        const prometheus = new LabResource(`${name}-prometheus`, {
            kind: "prometheus",
            name,
            request: monitoring.apply((m) => JSON.stringify({ spec, prometheus: { scrapeConfig: m.prometheusScrapeConfig, alertRules: m.alertRules } })),
        }, opts);
        return { url: prometheus.url };
    }
}
