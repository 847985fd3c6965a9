/** The whole program for the `ovh` stack, under Pulumi's mocks. */
import { aclPasswordHash, appPassword, exporterPassword, sentinelClientPassword } from "../../components/core/aclUsers";
import { hostSecrets } from "../../cloud-init/secretDelivery";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ProgramRun, placeholderSecret, readStackConfig, runProgram } from "../../scripts/lib/mockCloud";

let run: ProgramRun;
const redisPassword = placeholderSecret("redis-ha:redisPassword");
const sentinelPassword = placeholderSecret("redis-ha:sentinelPassword");

beforeAll(async () => {
    run = await runProgram(readStackConfig("ovh"), () => require("../../index"));
    if (run.error) throw run.error;
});

// In name order: the program creates the replicas before the plan's master (the replacement chain).
const ofType = (type: string) => run.resources.filter((r) => r.type === type).sort((a, b) => a.name.localeCompare(b.name));
const named = (name: string) => run.resources.find((r) => r.name === name)!;

test("creates exactly the expected resources", () => {
    const names = run.resources.map((r) => `${r.type} ${r.name}`).sort();
    const expected = [
        "redis-ha:index:FirewallRules redis-ha-ovh",
        "redis-ha:index:RedisReplicaSet redis-ha-ovh",
        "redis-ha:index:SentinelQuorum redis-ha-ovh",
        "ovh:CloudProject/networkPrivate:NetworkPrivate redis-ha-ovh-net",
        "ovh:CloudProject/networkPrivateSubnet:NetworkPrivateSubnet redis-ha-ovh-subnet",
        "openstack:compute/serverGroup:ServerGroup redis-ha-ovh-anti-affinity",
        ...["all", "redis", "sentinel"].map((t) => `openstack:networking/secGroup:SecGroup redis-ha-ovh-${t}`),
        "openstack:networking/secGroupRule:SecGroupRule redis-ha-ovh-all-22-from-203-0-113-10-32",
        "openstack:networking/secGroupRule:SecGroupRule redis-ha-ovh-redis-6379-from-cluster",
        "openstack:networking/secGroupRule:SecGroupRule redis-ha-ovh-redis-6379-from-10-42-0-128-25",
        "openstack:networking/secGroupRule:SecGroupRule redis-ha-ovh-sentinel-26379-from-cluster",
        "openstack:networking/secGroupRule:SecGroupRule redis-ha-ovh-redis-9121-from-203-0-113-10-32",
        "openstack:networking/secGroupRule:SecGroupRule redis-ha-ovh-sentinel-9122-from-203-0-113-10-32",
        "openstack:networking/secGroupRule:SecGroupRule redis-ha-ovh-sentinel-26379-from-10-42-0-128-25",
        ...[0, 1, 2].flatMap((i) => [
            `openstack:compute/instance:Instance redis-ha-ovh-redis-${i}`,
            `openstack:networking/port:Port redis-ha-ovh-redis-${i}-private`,
            `openstack:networking/port:Port redis-ha-ovh-redis-${i}-public`,
            `command:remote:Command redis-ha-ovh-redis-${i}-check`,
            `command:remote:Command redis-ha-ovh-redis-${i}-handoff`,
            `command:remote:Command redis-ha-ovh-redis-${i}-secrets`,
            `command:remote:Command redis-ha-ovh-redis-${i}-credentials`,
            `command:remote:Command redis-ha-ovh-redis-${i}-boot-guard`,
        ]),
        "command:remote:Command redis-ha-ovh-settings",
        "command:remote:Command redis-ha-ovh-default-user",
        "pulumi-nodejs:dynamic:Resource redis-ha-ovh-guard",
    ].sort();
    expect(names).toEqual(expected);
});

test("one instance per availability zone, pinned there, in the anti-affinity group, with fixed private ports", () => {
    const instances = ofType("openstack:compute/instance:Instance");
    expect(instances.map((i) => i.inputs.availabilityZone)).toEqual(["eu-west-par-a", "eu-west-par-b", "eu-west-par-c"]);
    expect(instances.every((i) => i.inputs.schedulerHints?.[0]?.group === "redis-ha-ovh-anti-affinity-id")).toBe(true);
    expect(instances.every((i) => i.inputs.flavorName === "b3-8" && i.inputs.imageName === "Debian 12")).toBe(true);
    const ports = ofType("openstack:networking/port:Port").filter((p) => p.name.endsWith("-private"));
    expect(ports.map((p) => p.inputs.fixedIps[0].ipAddress)).toEqual(["10.42.0.11", "10.42.0.12", "10.42.0.13"]);
    expect(ports.every((p) => p.inputs.networkId === "redis-ha-ovh-net-EU-WEST-PAR-openstack-id")).toBe(true);
});

test("no Redis, Sentinel or SSH port is open to the world; every port carries the security groups", () => {
    const rules = ofType("openstack:networking/secGroupRule:SecGroupRule");
    expect(rules.map((r) => r.inputs.remoteIpPrefix).filter(Boolean)).not.toContain("0.0.0.0/0");
    expect(rules.map((r) => [r.inputs.portRangeMin, r.inputs.remoteIpPrefix ?? `group:${r.inputs.remoteGroupId}`]).sort()).toEqual([
        [22, "203.0.113.10/32"],
        [26379, "10.42.0.128/25"],
        [26379, "group:redis-ha-ovh-all-id"],
        [6379, "10.42.0.128/25"],
        [6379, "group:redis-ha-ovh-all-id"],
        [9121, "203.0.113.10/32"],
        [9122, "203.0.113.10/32"],
    ]);
    for (const port of ofType("openstack:networking/port:Port")) {
        expect(port.inputs.securityGroupIds.sort()).toEqual(["redis-ha-ovh-all-id", "redis-ha-ovh-redis-id", "redis-ha-ovh-sentinel-id"]);
    }
});

test("user-data is a secret, and carries the rendered configs of its host, with no password in them", () => {
    const secrets = hostSecrets({ redisPassword, sentinelPassword });
    for (const [i, instance] of ofType("openstack:compute/instance:Instance").entries()) {
        expect(instance.secretInputs).toContain("userData");
        // secretsDelivery ssh, the default with checks: not one password, base or derived.
        expect(secrets.filter((s) => instance.inputs.userData.includes(s.value)).map((s) => s.token)).toEqual([]);
        const files = Object.fromEntries(parse(instance.inputs.userData).write_files.map((f: { path: string; content: string }) => [f.path, f.content]));
        expect(files["/etc/redis-ha/staged/redis.conf"]).toContain("masterauth @REDIS_HA_SECRET_REPLICATION@");
        expect(files["/etc/redis-ha/operator.conf"]).toContain("redis-password @REDIS_HA_SECRET_REDIS@");
        const redisConf = files["/etc/redis-ha/staged/redis.conf"];
        expect(redisConf).toContain(`bind 10.42.0.${11 + i} 127.0.0.1 -::1`);
        // The stack's password is the operators' user's only: default is off, so it opens nothing without a user name.
        expect(redisConf).toContain(`user operator reset on #${aclPasswordHash(redisPassword)} `);
        expect(redisConf).not.toContain(redisPassword);
        expect(redisConf).toMatch(/^user default reset$/m);
        expect(redisConf).toContain("maxmemory 5gb");
        if (i > 0) expect(redisConf).toContain("replicaof 10.42.0.11 6379");
        // The failover study's defaults reach the nodes (docs/failover.md).
        expect(redisConf).toContain("min-replicas-max-lag 3");
        expect(redisConf).toContain("repl-diskless-sync-delay 0");
        expect(files["/etc/redis-ha/staged/sentinel.conf"]).toContain("sentinel monitor redis-ha 10.42.0.11 6379 2");
        expect(files["/etc/redis-ha/staged/sentinel.conf"]).toContain("sentinel down-after-milliseconds redis-ha 1500");
    }
});

test("a new image or flavor replaces the nodes one at a time: each instance waits for the handoff of the one before, replicas first and the plan's master last", () => {
    const chain = ["redis-ha-ovh-redis-1", "redis-ha-ovh-redis-2", "redis-ha-ovh-redis-0"];
    for (const [i, name] of chain.entries()) {
        const instance = named(name);
        // A fixed port belongs to one instance at a time, and a resize would reboot every node at once.
        expect(instance.options).toMatchObject({ deleteBeforeReplace: true, replaceOnChanges: ["flavorName"] });
        if (i > 0) expect(instance.options.dependsOn).toContain(`${chain[i - 1]}-handoff`);
        const handoff = named(`${name}-handoff`);
        expect(handoff.inputs).toMatchObject({ create: "sudo -n bash -s join", delete: "sudo -n bash -s leave", triggers: [instance.id] });
        // On the host itself, as its check: the leave runs on the old VM, the join on the new one.
        expect(handoff.inputs.connection).toMatchObject({ user: "debian", host: named(`${name}-check`).inputs.connection.host });
        // Not run when the whole deployment is destroyed; never rerun for a changed node list.
        expect(handoff.options).toMatchObject({ deletedWith: "redis-ha-ovh-guard", ignoreChanges: ["stdin"], dependsOn: [name, `${name}-secrets`] });
        expect(handoff.inputs.stdin).toContain(`node='10.42.0.${11 + Number(name.slice(-1))}:6379'`);
        expect(handoff.inputs.stdin).not.toContain(redisPassword);
    }
    expect(named("redis-ha-ovh-redis-1").options.dependsOn.filter((d) => d.endsWith("-handoff"))).toEqual([]);
    // The rollout runs once every node is back in; a check reruns when a host was replaced.
    expect(named("redis-ha-ovh-settings").options.dependsOn).toEqual(expect.arrayContaining(chain.map((n) => `${n}-handoff`)));
    expect(named("redis-ha-ovh-redis-0-check").inputs.triggers).toEqual(expect.arrayContaining(chain.map((n) => named(n).id)));
});

test("each host gets its passwords over SSH right after it is created, before its handoff, only through a secret stdin", () => {
    const secrets = hostSecrets({ redisPassword, sentinelPassword });
    for (const instance of ofType("openstack:compute/instance:Instance")) {
        const delivery = named(`${instance.name}-secrets`);
        expect(delivery.inputs).toMatchObject({ create: "sudo -n bash -s", update: "sudo -n bash -s", triggers: [instance.id] });
        expect(delivery.inputs.connection).toMatchObject({ user: "debian", host: named(`${instance.name}-check`).inputs.connection.host });
        expect(delivery.options.dependsOn).toEqual([instance.name]);
        expect(delivery.secretInputs).toContain("stdin");
        // Every password the user-data withheld, and where first boot left the files that wait for them.
        for (const s of secrets) expect(delivery.inputs.stdin).toContain(`['${s.token}']='${s.value}'`);
        expect(delivery.inputs.stdin).toContain("files=('/etc/redis-ha/staged/redis.conf' '/etc/redis-ha/staged/sentinel.conf'");
        expect(delivery.inputs.stdin).toContain("\n'/usr/local/sbin/redis-ha-firstboot'\n");
        // What runs on the host comes after it: the boot guards and the rollout wait for every delivery.
        expect(named(`${instance.name}-boot-guard`).options.dependsOn).toContain(`${instance.name}-secrets`);
        expect(named("redis-ha-ovh-settings").options.dependsOn).toContain(`${instance.name}-secrets`);
    }
});

test("the checks SSH to each Sentinel host as the image user and verify every Sentinel", () => {
    const checks = ofType("command:remote:Command").filter((c) => c.name.endsWith("-check"));
    expect(checks).toHaveLength(3);
    for (const check of checks) {
        expect(check.inputs.connection.user).toBe("debian");
        expect(check.inputs.connection.host).toMatch(/^198\.51\.100\.\d+$/);
        expect(check.inputs.create).toBe("sudo -n bash -s");
        expect(check.inputs.stdin).toContain("sentinels=('10.42.0.11:26379' '10.42.0.12:26379' '10.42.0.13:26379')");
        expect(check.inputs.stdin).toContain("expected_replicas=2");
        // The check reads the passwords on the host; none travels with the command.
        expect(check.inputs.stdin).not.toContain(redisPassword);
        expect(check.inputs.stdin).not.toContain(sentinelPassword);
    }
});

test("the settings rollout goes through the running processes from the first Sentinel host, and its trigger reads as the settings", () => {
    const [rollout] = ofType("command:remote:Command").filter((c) => c.name === "redis-ha-ovh-settings");
    expect(rollout.inputs.connection).toMatchObject({ user: "debian", host: named("redis-ha-ovh-redis-0-check").inputs.connection.host });
    expect(rollout.inputs.create).toBe("sudo -n bash -s");
    expect(rollout.inputs.stdin).toContain("data_nodes=('10.42.0.11:6379' '10.42.0.12:6379' '10.42.0.13:6379')");
    expect(rollout.inputs.stdin).toContain("mode=apply");
    // It carries the passwords, for a rotation: only as a secret.
    expect(rollout.secretInputs).toContain("stdin");
    expect(rollout.inputs.triggers).toEqual([
        "redis maxmemory 5gb", "redis maxmemory-policy noeviction", "redis appendonly yes", "redis save 3600 1 300 100 60 10000",
        "redis min-replicas-to-write 1", "redis min-replicas-max-lag 3", "redis repl-diskless-sync-delay 0",
        "sentinel down-after-milliseconds 1500", "sentinel failover-timeout 10000", "sentinel parallel-syncs 1", "sentinel quorum 2",
        "data nodes 10.42.0.11:6379 10.42.0.12:6379 10.42.0.13:6379",
        expect.stringMatching(/^redis password [0-9a-f]{64}$/),
        "redis previous password retired",
        expect.stringMatching(/^sentinel password [0-9a-f]{64}$/),
        "sentinel previous password retired",
        "app user app: scripting allowed",
        "the Sentinels log in to the nodes as user sentinel",
        // A replaced host runs it again (its Sentinel boots logging in as default).
        expect.stringMatching(/^hosts \S+ \S+ \S+$/),
        // Last, each added at the end, so a deployment made before one previews one added line.
        "the apps ask the Sentinels as default, which may only read; the operators and the Sentinels log in to them as admin",
        "the nodes replicate as user replica, which may only replicate",
        "the checks and day-2 scripts log in to the nodes as user operator",
        "the exporters log in to the nodes as user exporter, which may only read INFO",
    ]);
    expect(JSON.stringify(rollout.inputs.triggers)).not.toContain(redisPassword);
    // A VM's rollout waits for its first boot (without rolling replacement no handoff has waited for it).
    expect(rollout.inputs.stdin).toContain("cloud-init status --wait");
});

test("each host's boot guard and exporters get their passwords after the rollout, only through a secret: the Sentinels' client password and the exporter's, which may only read", () => {
    const commands = ofType("command:remote:Command").filter((c) => c.name.endsWith("-credentials"));
    expect(commands.map((c) => c.name)).toEqual([0, 1, 2].map((i) => `redis-ha-ovh-redis-${i}-credentials`));
    for (const [i, c] of commands.entries()) {
        expect(c.secretInputs).toContain("stdin");
        expect(c.inputs.stdin).toContain(`replace '/etc/redis-ha/sentinel-password' root 0600 '${sentinelClientPassword(sentinelPassword)}' "boot guard password"`);
        // The Redis exporter logs in as its own user, with the password derived for it, not the stack's.
        expect(c.inputs.stdin).toContain(`replace '/etc/redis-ha/redis-exporter.json' prometheus 0640 '{"redis://10.42.0.${11 + i}:6379":"${exporterPassword(redisPassword)}"}'`);
        expect(c.inputs.stdin).toContain(`replace '/etc/systemd/system/redis-ha-redis-exporter.service.d/redis-ha-login.conf' root 0644 '[Service]\nEnvironment=REDIS_USER=exporter\nEnvironment=REDIS_EXPORTER_CONFIG_COMMAND=-' "redis exporter login"`);
        expect(c.inputs.stdin).not.toContain(`"${redisPassword}"}`);
        expect(c.inputs.stdin).toContain(`replace '/etc/redis-ha/sentinel-exporter.json' prometheus 0640 '{"redis://10.42.0.${11 + i}:26379":"${sentinelClientPassword(sentinelPassword)}"}'`);
        for (const secret of [sentinelPassword, redisPassword]) expect(JSON.stringify(c.inputs.triggers)).not.toContain(secret);
    }
});

test("what a running deployment cannot change is recorded by a guard that every host and the network wait for", () => {
    const [guard] = ofType("pulumi-nodejs:dynamic:Resource").filter((r) => r.name === "redis-ha-ovh-guard");
    expect(JSON.parse(guard.inputs.settings).map((s: { key: string; value: string }) => `${s.key}=${s.value}`)).toEqual([
        "masterName=redis-ha", "redisPort=6379", "sentinelPort=26379", "privateNetworkCidr=10.42.0.0/24", "sentinelPlacement=colocated",
        "image=Debian 12", "instanceType=b3-8", "sentinelCount=3", "hosts=redis-ha-ovh-redis-0 redis-ha-ovh-redis-1 redis-ha-ovh-redis-2",
        ...[0, 1, 2].flatMap((i) => [`zone of redis-ha-ovh-redis-${i}=eu-west-par-${"abc"[i]}`, `address of redis-ha-ovh-redis-${i}=10.42.0.${11 + i}`, `Sentinel on redis-ha-ovh-redis-${i}=yes`]),
    ]);
});

test("outputs: node table, Sentinel endpoints, client snippets; passwords only inside a secret", () => {
    expect(run.outputs.masterName).toBe("redis-ha");
    expect(run.outputs.sentinelEndpoints).toEqual(["10.42.0.11:26379", "10.42.0.12:26379", "10.42.0.13:26379"]);
    expect(run.outputs.nodes).toEqual([
        { name: "redis-ha-ovh-redis-0", zone: "eu-west-par-a", initialRole: "master", sentinel: true, privateAddress: "10.42.0.11" },
        { name: "redis-ha-ovh-redis-1", zone: "eu-west-par-b", initialRole: "replica", sentinel: true, privateAddress: "10.42.0.12" },
        { name: "redis-ha-ovh-redis-2", zone: "eu-west-par-c", initialRole: "replica", sentinel: true, privateAddress: "10.42.0.13" },
    ]);
    const clients = run.outputs.clients as Record<string, string>;
    expect(Object.keys(clients).sort()).toEqual(["ioredis", "phpredis", "predis", "predis1", "wordpress", "wordpressObjectCache"]);
    expect(clients.wordpress).toContain("WP_REDIS_SENTINEL");
    // The drop-in waits for a new master's replicas because Redis refuses writes until the stack's minReplicasToWrite have attached.
    expect(clients.wordpress).toContain("define('WP_REDIS_HA_MIN_REPLICAS', 1);");
    // A page outlasts a split Sentinel vote: down-after 1500 + 2 x failover-timeout 10000 + 10 s.
    expect(clients.wordpress).toContain("define('WP_REDIS_HA_WAIT_MS', 31500);");
    expect(clients.wordpressObjectCache).toMatch(/^<\?php\n\/\*\*\n \* Plugin Name: redis-ha object cache\n/);
    // The app user, never the stack's Redis password.
    // And the Sentinels' client password, never the stack's Sentinel password (admin's).
    expect(run.outputs.clientEnvironment).toEqual({ REDIS_USERNAME: "app", REDIS_PASSWORD: appPassword(redisPassword), REDIS_SENTINEL_PASSWORD: sentinelClientPassword(sentinelPassword) });
    for (const stackPassword of [redisPassword, sentinelPassword]) expect(Object.values(run.outputs.clientEnvironment as Record<string, string>)).not.toContain(stackPassword);
});

test("outputs: what a Prometheus needs, every exporter on its private address, labelled with the stack's deployment", () => {
    const monitoring = run.outputs.monitoring as { targets: Array<{ target: string; labels: Record<string, string> }>; prometheusScrapeConfig: string; alertRules: string; alertmanagerRoute: string };
    expect(monitoring.targets.map((t) => `${t.target} ${t.labels.host} ${t.labels.zone} ${t.labels.service}`)).toEqual([0, 1, 2].flatMap((i) => [
        `10.42.0.${11 + i}:9121 redis-ha-ovh-redis-${i} eu-west-par-${"abc"[i]} redis`,
        `10.42.0.${11 + i}:9122 redis-ha-ovh-redis-${i} eu-west-par-${"abc"[i]} sentinel`,
    ]));
    expect(new Set(monitoring.targets.map((t) => t.labels.deployment))).toEqual(new Set(["redis-ha-ovh"]));
    expect(monitoring.prometheusScrapeConfig).toContain("job_name: redis-ha-redis-ha-ovh");
    // The stack's quorum, rendered into the rule (Debian 12's exporter does not export it).
    expect(monitoring.alertRules).toContain('redis_sentinel_master_ok_sentinels{deployment="redis-ha-ovh", master_name="redis-ha"}) < 2');
    expect(monitoring.alertmanagerRoute).toContain('deployment="redis-ha-ovh"');
    // Only a lab stack runs a Prometheus of its own; a cloud stack has no such output.
    expect(run.outputs.labPrometheusUrl).toBeUndefined();
});

test("secrets stay secrets in the stack outputs", async () => {
    const isSecret = (name: string) => pulumi.isSecret(pulumi.output(run.exports[name]));
    expect(await isSecret("clientEnvironment")).toBe(true);
    for (const name of Object.keys(run.exports).filter((n) => n !== "clientEnvironment" && run.outputs[n] !== undefined)) {
        const plain = JSON.stringify(run.outputs[name]);
        expect(plain).not.toContain(redisPassword);
        expect(plain).not.toContain(sentinelPassword);
    }
});
