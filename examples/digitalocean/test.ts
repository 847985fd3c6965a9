/**
 * This program under Pulumi's mocks (pulumi.runtime.setMocks, Pulumi's documented way to test a
 * program without a cloud): what it would create on DigitalOcean, checked as its owner would.
 * Run: npm test
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { NodeRow } from "redis-ha";

const created: pulumi.runtime.MockResourceArgs[] = [];
const vpcRanges = new Map<string, string>();
let nextDroplet = 0;
pulumi.runtime.setMocks({
    newResource(args) {
        created.push(args);
        const id = `${args.name}-id`;
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type === "digitalocean:index/vpc:Vpc") vpcRanges.set(id, args.inputs.ipRange);
        if (args.type === "digitalocean:index/droplet:Droplet") {
            // DigitalOcean assigns a droplet's VPC address; the program learns it from the API.
            const [a, b, c, d] = vpcRanges.get(args.inputs.vpcUuid)!.split("/")[0].split(".").map(Number);
            state.ipv4AddressPrivate = `${a}.${b}.${c}.${d + 2}`;
            state.ipv4Address = `198.51.100.${10 + nextDroplet++}`;
        }
        return { id, state };
    },
    call(args) {
        throw new Error(`no mock answer for ${args.token}`);
    },
}, "redis-ha-example-digitalocean", "test", false);
pulumi.runtime.setAllConfig({
    "redis-ha-example-digitalocean:appCidrs": JSON.stringify(["10.42.0.0/22"]),
    "redis-ha-example-digitalocean:adminCidrs": JSON.stringify(["203.0.113.10/32"]),
    "redis-ha-example-digitalocean:sshPublicKeys": JSON.stringify(["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv7Yy3cUQG9kJ0c4Tq0nq1J2ZpM0dO2L8F4m7cP1t5E ops@example"]),
    "redis-ha-example-digitalocean:redisPassword": "example-redis-password-0123456789abcdef",
    "redis-ha-example-digitalocean:sentinelPassword": "example-sentinel-password-0123456789abcdef",
}, ["redis-ha-example-digitalocean:redisPassword", "redis-ha-example-digitalocean:sentinelPassword"]);

const valueOf = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

async function main(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const program = require("./index");
    const nodes = await valueOf(program.nodes as pulumi.Output<NodeRow[]>);
    // The checks run on every host once it exists: when their reports resolve, every resource is registered.
    const health = await valueOf(program.health as pulumi.Output<Array<{ ok: boolean }>>);
    assert.equal(health.length, 3, "a check on every node");
    const droplets = created.filter((r) => r.type === "digitalocean:index/droplet:Droplet");
    const regions = droplets.map((d) => d.inputs.region).sort();
    assert.deepEqual(regions, ["ams3", "fra1", "lon1"], "one node per datacenter");
    assert.equal(created.filter((r) => r.type === "digitalocean:index/vpcPeering:VpcPeering").length, 3, "every pair of VPCs peered");
    assert.equal(nodes.filter((n) => n.initialRole === "master").length, 1, "one master");
    const sources = created.filter((r) => r.type === "digitalocean:index/firewall:Firewall")
        .flatMap((f) => (f.inputs.inboundRules ?? []) as Array<{ portRange: string; sourceAddresses?: string[] }>)
        .filter((rule) => rule.sourceAddresses);
    for (const rule of sources) {
        // SSH and the exporters (monitoringCidrs default to adminCidrs) from the admins, Redis and Sentinel from the app.
        const allowed = ["22", "9121", "9122"].includes(rule.portRange) ? ["203.0.113.10/32"] : ["10.42.0.0/22"];
        assert.deepEqual(rule.sourceAddresses, allowed, `port ${rule.portRange} is open to ${allowed} only`);
    }
    assert.ok(sources.some((r) => r.portRange === "6379"), "the application CIDR reaches Redis");
    // A consumer on DigitalOcean loads (and installs) neither OpenStack's nor OVH's SDK.
    assert.ok(!Object.keys(require.cache).some((file) => /@pulumi\/openstack|@ovhcloud\/pulumi-ovh/.test(file)), "an OVHcloud SDK was loaded");
    console.log(JSON.stringify({ resources: created.length, droplets: droplets.length, regions, firewallRules: sources.length }));
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
