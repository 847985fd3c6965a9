/**
 * redis-ha:sentinelAuth false, the path for Predis 1.1 (which cannot authenticate to Sentinels):
 * the whole program for the ovh stack under mocks, with the Sentinels left without a password.
 */
import { appPassword } from "../../components/core/aclUsers";
import { parse } from "yaml";
import { ProgramRun, placeholderSecret, readStackConfig, runProgram } from "../../scripts/lib/mockCloud";

let run: ProgramRun;

beforeAll(async () => {
    const stack = readStackConfig("ovh");
    stack.config["redis-ha:sentinelAuth"] = "false";
    delete stack.config["redis-ha:sentinelPassword"];
    run = await runProgram(stack, () => require("../../index"));
    if (run.error) throw run.error;
});

test("every Sentinel runs without requirepass, while Redis keeps its users' passwords", () => {
    const instances = run.resources.filter((r) => r.type === "openstack:compute/instance:Instance");
    expect(instances).toHaveLength(3);
    for (const instance of instances) {
        const files = Object.fromEntries(parse(instance.inputs.userData).write_files.map((f: { path: string; content: string }) => [f.path, f.content]));
        const sentinelConf: string = files["/etc/redis-ha/staged/sentinel.conf"];
        const redisConf: string = files["/etc/redis-ha/staged/redis.conf"];
        expect(sentinelConf).toMatch(/^sentinel monitor /m);
        expect(sentinelConf).not.toMatch(/^requirepass /m);
        // Redis 7 would otherwise refuse the other Sentinels and every client.
        expect(sentinelConf).toMatch(/^protected-mode no$/m);
        expect(sentinelConf).toMatch(/^sentinel auth-pass redis-ha \S+$/m);
        expect(redisConf).toMatch(/^user operator reset on #[0-9a-f]{64} /m);
        expect(files["/etc/redis-ha/sentinel-password"]).toBe("\n");
    }
});

test("clients get no Sentinel password, and a working Predis 1.1 snippet", () => {
    expect(run.outputs.clientEnvironment).toEqual({ REDIS_USERNAME: "app", REDIS_PASSWORD: appPassword(placeholderSecret("redis-ha:redisPassword")) });
    const clients = run.outputs.clients as Record<string, string>;
    expect(clients.predis1).toContain("new \\Predis\\Client(");
    expect(clients.predis1).toContain("'tcp://10.42.0.11:26379',");
});

test("the plan warns that the firewall alone guards the Sentinels", () => {
    expect((run.outputs.planWarnings as string[]).join("\n")).toMatch(/sentinelAuth is false: anyone who can reach a Sentinel port/);
});
