/** The whole program for the `do` stack, under Pulumi's mocks. */
import { parse } from "yaml";
import { ProgramRun, placeholderSecret, readStackConfig, runProgram } from "../../scripts/lib/mockCloud";
import { hostSecrets } from "../../cloud-init/secretDelivery";

let run: ProgramRun;
beforeAll(async () => {
    run = await runProgram(readStackConfig("do"), () => require("../../index"));
    if (run.error) throw run.error;
});
const ofType = (type: string) => run.resources.filter((r) => r.type === type);

test("one VPC per datacenter, every pair peered", () => {
    expect(ofType("digitalocean:index/vpc:Vpc").map((v) => [v.inputs.region, v.inputs.ipRange])).toEqual([
        ["ams3", "10.42.0.0/24"],
        ["fra1", "10.42.1.0/24"],
        ["lon1", "10.42.2.0/24"],
    ]);
    expect(ofType("digitalocean:index/vpcPeering:VpcPeering").map((p) => p.inputs.vpcIds).sort()).toEqual([
        ["redis-ha-do-vpc-ams3-id", "redis-ha-do-vpc-fra1-id"],
        ["redis-ha-do-vpc-ams3-id", "redis-ha-do-vpc-lon1-id"],
        ["redis-ha-do-vpc-fra1-id", "redis-ha-do-vpc-lon1-id"],
    ]);
});

test("droplets sit in distinct datacenters, in their datacenter's VPC, tagged for the firewalls", () => {
    const droplets = ofType("digitalocean:index/droplet:Droplet");
    expect(droplets.map((d) => [d.name, d.inputs.region, d.inputs.vpcUuid])).toEqual([
        ["redis-ha-do-redis-0", "ams3", "redis-ha-do-vpc-ams3-id"],
        ["redis-ha-do-redis-1", "fra1", "redis-ha-do-vpc-fra1-id"],
        ["redis-ha-do-redis-2", "lon1", "redis-ha-do-vpc-lon1-id"],
    ]);
    for (const d of droplets) expect(d.inputs.tags.sort()).toEqual(["redis-ha-do-all", "redis-ha-do-redis", "redis-ha-do-sentinel"]);
});

test("Cloud Firewalls: Redis and Sentinel from the app and the cluster tag, SSH from admins, outbound open for packages", () => {
    const firewalls = Object.fromEntries(ofType("digitalocean:index/firewall:Firewall").map((f) => [f.name, f.inputs]));
    const inbound = (name: string) => firewalls[name].inboundRules.map((r: any) => `${r.portRange}<-${(r.sourceAddresses ?? r.sourceTags).join(",")}`).sort();
    expect(inbound("redis-ha-do-all")).toEqual(["22<-203.0.113.10/32"]);
    // The exporters from the monitoring CIDRs, which default to the admin ones.
    expect(inbound("redis-ha-do-redis")).toEqual(["6379<-10.42.0.0/22", "6379<-redis-ha-do-all", "9121<-203.0.113.10/32"]);
    expect(inbound("redis-ha-do-sentinel")).toEqual(["26379<-10.42.0.0/22", "26379<-redis-ha-do-all", "9122<-203.0.113.10/32"]);
    expect(JSON.stringify(firewalls).match(/0\.0\.0\.0\/0/g)?.length).toBe(3);
    expect(firewalls["redis-ha-do-all"].outboundRules.map((r: any) => r.protocol).sort()).toEqual(["icmp", "tcp", "udp"]);
    for (const f of Object.values(firewalls)) for (const rule of (f as any).inboundRules) expect(rule.sourceAddresses ?? []).not.toContain("0.0.0.0/0");
});

test("replicas learn the master's address from its droplet; each host learns its own at first boot", () => {
    const droplets = ofType("digitalocean:index/droplet:Droplet");
    const conf = (i: number, file: string) => parse(droplets[i].inputs.userData).write_files.find((f: { path: string }) => f.path.endsWith(file)).content as string;
    expect(droplets.every((d) => d.secretInputs.includes("userData"))).toBe(true);
    expect(conf(0, "redis.conf")).toContain("bind @PRIVATE_IPV4@ 127.0.0.1");
    expect(conf(0, "sentinel.conf")).toContain("sentinel monitor redis-ha @PRIVATE_IPV4@ 6379 2");
    const masterAddress = (run.outputs.nodes as Array<{ privateAddress: string }>)[0].privateAddress;
    expect(conf(1, "redis.conf")).toContain(`replicaof ${masterAddress} 6379`);
    expect(conf(2, "sentinel.conf")).toContain(`sentinel monitor redis-ha ${masterAddress} 6379 2`);
});

test("the checks log in as root over the public address; the Sentinel endpoints are the VPC addresses", () => {
    const checks = ofType("command:remote:Command").filter((c) => c.name.endsWith("-check"));
    expect(checks.map((c) => [c.inputs.connection.user, c.inputs.create])).toEqual([["root", "bash -s"], ["root", "bash -s"], ["root", "bash -s"]]);
    expect(run.outputs.sentinelEndpoints).toEqual((run.outputs.nodes as Array<{ privateAddress: string }>).map((n) => `${n.privateAddress}:26379`));
});

test("no droplet's user-data holds a password: each droplet gets them over SSH as root right after it is created, before anything else runs there", () => {
    const secrets = hostSecrets({ redisPassword: placeholderSecret("redis-ha:redisPassword"), sentinelPassword: placeholderSecret("redis-ha:sentinelPassword") });
    const commands = ofType("command:remote:Command");
    for (const droplet of ofType("digitalocean:index/droplet:Droplet")) {
        expect(secrets.filter((s) => droplet.inputs.userData.includes(s.value)).map((s) => s.token)).toEqual([]);
        const delivery = commands.find((c) => c.name === `${droplet.name}-secrets`)!;
        expect(delivery.inputs).toMatchObject({ create: "bash -s", triggers: [droplet.id] });
        expect(delivery.inputs.connection.user).toBe("root");
        expect(delivery.secretInputs).toContain("stdin");
        // The address discovery of first boot still fills the private address in, once the passwords are in.
        expect(delivery.inputs.stdin).toContain("/etc/redis-ha/staged/redis.conf");
        expect(commands.find((c) => c.name === "redis-ha-do-settings")!.options.dependsOn).toContain(delivery.name);
    }
});

test("three datacenters give no single-datacenter warning", () => {
    expect((run.outputs.planWarnings as string[]).join("\n")).not.toMatch(/DigitalOcean datacenter/);
});
