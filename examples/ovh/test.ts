/**
 * This program under Pulumi's mocks (pulumi.runtime.setMocks, Pulumi's documented way to test a
 * program without a cloud): what it would create on OVHcloud, checked as its owner would.
 * Run: npm test
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { NodeRow } from "redis-ha";

const created: pulumi.runtime.MockResourceArgs[] = [];
let nextAddress = 10;
pulumi.runtime.setMocks({
    newResource(args) {
        created.push(args);
        const state: Record<string, unknown> = { ...args.inputs };
        // What OVHcloud's API would answer for the two resources whose outputs the program reads.
        if (args.type === "ovh:CloudProject/networkPrivate:NetworkPrivate") {
            state.regionsAttributes = (args.inputs.regions ?? []).map((region: string) => ({ region, openstackid: `${args.name}-${region}`, status: "ACTIVE" }));
        }
        if (args.type === "openstack:compute/instance:Instance") state.accessIpV4 = `198.51.100.${nextAddress++}`;
        return { id: `${args.name}-id`, state };
    },
    call(args) {
        if (args.token === "openstack:networking/getNetwork:getNetwork") return { id: "ext-net-id", name: args.inputs.name };
        throw new Error(`no mock answer for ${args.token}`);
    },
}, "redis-ha-example-ovh", "test", false);
pulumi.runtime.setAllConfig({
    "redis-ha-example-ovh:projectId": "5f0e1d2c3b4a59687766554433221100",
    "redis-ha-example-ovh:appCidrs": JSON.stringify(["10.42.0.128/25"]),
    "redis-ha-example-ovh:adminCidrs": JSON.stringify(["203.0.113.10/32"]),
    "redis-ha-example-ovh:sshPublicKeys": JSON.stringify(["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv7Yy3cUQG9kJ0c4Tq0nq1J2ZpM0dO2L8F4m7cP1t5E ops@example"]),
    "redis-ha-example-ovh:redisPassword": "example-redis-password-0123456789abcdef",
    "redis-ha-example-ovh:sentinelPassword": "example-sentinel-password-0123456789abcdef",
}, ["redis-ha-example-ovh:redisPassword", "redis-ha-example-ovh:sentinelPassword"]);

const valueOf = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

async function main(): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const program = require("./index");
    const nodes = await valueOf(program.nodes as pulumi.Output<NodeRow[]>);
    // The checks run on every host once it exists: when their reports resolve, every resource is registered.
    const health = await valueOf(program.health as pulumi.Output<Array<{ ok: boolean }>>);
    assert.equal(health.length, 3, "a check on every node");
    const instances = created.filter((r) => r.type === "openstack:compute/instance:Instance");
    const zones = instances.map((i) => i.inputs.availabilityZone).sort();
    assert.deepEqual(zones, ["eu-west-par-a", "eu-west-par-b", "eu-west-par-c"], "one node per availability zone");
    assert.equal(nodes.filter((n) => n.initialRole === "master").length, 1, "one master");
    const fromOutside = created.filter((r) => r.type === "openstack:networking/secGroupRule:SecGroupRule" && r.inputs.remoteIpPrefix);
    for (const rule of fromOutside) {
        // SSH and the exporters (monitoringCidrs default to adminCidrs) from the admins, Redis and Sentinel from the app.
        const allowed = [22, 9121, 9122].includes(rule.inputs.portRangeMin) ? "203.0.113.10/32" : "10.42.0.128/25";
        assert.equal(rule.inputs.remoteIpPrefix, allowed, `port ${rule.inputs.portRangeMin} is open to ${allowed} only`);
    }
    assert.ok(fromOutside.some((r) => r.inputs.portRangeMin === 6379), "the application CIDR reaches Redis");
    // A consumer on OVHcloud loads (and installs) no DigitalOcean SDK.
    assert.ok(!Object.keys(require.cache).some((file) => file.includes("@pulumi/digitalocean")), "@pulumi/digitalocean was loaded");
    console.log(JSON.stringify({ resources: created.length, instances: instances.length, zones, firewallRules: fromOutside.length }));
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
