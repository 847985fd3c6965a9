/**
 * The ovh stack with more data nodes than Sentinels, under Pulumi's mocks: the data node without a
 * Sentinel gets the host half of the check (docs/security.md) as a remote.Command of its own.
 */
import { placeholderSecret, readStackConfig, runProgram } from "../../scripts/lib/mockCloud";

test("a data node without a Sentinel gets the hardening check over the same SSH, with no secret in it; Sentinel hosts keep the full check", async () => {
    const config = readStackConfig("ovh");
    config.config["redis-ha:replicaCount"] = "3";
    const run = await runProgram(config, () => require("../../index"));
    if (run.error) throw run.error;
    const commands = run.resources.filter((r) => r.type === "command:remote:Command");
    const named = (suffix: string) => commands.filter((c) => c.name.endsWith(suffix)).map((c) => c.name).sort();
    expect(named("-check")).toEqual([0, 1, 2].map((i) => `redis-ha-ovh-redis-${i}-check`));
    expect(named("-hardening")).toEqual(["redis-ha-ovh-redis-3-hardening"]);
    const hardening = commands.find((c) => c.name === "redis-ha-ovh-redis-3-hardening")!;
    expect(hardening.inputs.create).toBe("sudo -n bash -s");
    expect(hardening.inputs.connection.host).toMatch(/^198\.51\.100\.\d+$/);
    expect(hardening.inputs.stdin).toContain("data_nodes=('10.42.0.11:6379' '10.42.0.12:6379' '10.42.0.13:6379' '10.42.0.14:6379')");
    expect(hardening.inputs.stdin).toContain("check_hardening");
    expect(hardening.inputs.stdin).not.toContain(placeholderSecret("redis-ha:redisPassword"));
    expect(hardening.inputs.stdin).not.toContain(placeholderSecret("redis-ha:sentinelPassword"));
    // The full check on every Sentinel host carries the same host half.
    for (const check of commands.filter((c) => c.name.endsWith("-check"))) expect(check.inputs.stdin).toContain("check_hardening\n");
});
