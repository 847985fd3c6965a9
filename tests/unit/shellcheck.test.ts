/**
 * Every shell script the renderers produce, as a VM or an operator would run it, through shellcheck
 * (warnings and errors; its style notes are not gated): the scripts are bash inside TypeScript
 * template literals, where a lost quote or escape is easy to write and hard to see.
 */
import { spawnSync } from "child_process";
import { parse } from "yaml";
import { renderBootGuard } from "../../cloud-init/bootGuard";
import { renderHostCredentialsScript } from "../../cloud-init/hostCredentials";
import { renderCheckScript, renderHostHardeningScript } from "../../cloud-init/checkScript";
import { renderHandoffScript } from "../../cloud-init/handoffScript";
import { renderRolloutScript } from "../../cloud-init/rolloutScript";
import { renderSwitchoverScript } from "../../cloud-init/switchoverScript";
import { hostSecrets, renderSecretDeliveryScript } from "../../cloud-init/secretDelivery";
import { runtimeSettings } from "../../components/core/runtimeSettings";
import { CONFIG, SECRETS, allHostVariants } from "../support/render";

const sentinels = ["10.42.0.11:26379", "10.42.0.12:26379", "10.42.0.13:26379"];
const dataNodes = ["10.42.0.11:6379", "10.42.0.12:6379", "10.42.0.13:6379"];
const common = { hostName: "rha-redis-0", masterName: CONFIG.masterName, sentinelConfPath: "/etc/redis/sentinel.conf" };

const SCRIPTS: Array<[string, string]> = [
    ["the post-deploy check", renderCheckScript({ ...common, sentinels, dataNodes, expectedReplicas: 2, maxLagSeconds: 10, timeoutSeconds: 600, waitForCloudInit: true, intervalSeconds: 5 })],
    ["the hardening check of a data node without a Sentinel", renderHostHardeningScript({ hostName: "rha-redis-3", sentinels, dataNodes: [...dataNodes, "10.42.0.14:6379"] })],
    ["the settings rollout", renderRolloutScript({ ...common, dataNodes, sentinels, settings: runtimeSettings(CONFIG), mode: "apply", timeoutSeconds: 300, intervalSeconds: 2 })],
    ["the switchover", renderSwitchoverScript({ ...common, sentinels, expectedReplicas: 2, timeoutSeconds: 120 })],
    ["the handoff", renderHandoffScript({ ...common, dataNode: dataNodes[0], sentinel: sentinels[0], dataNodes, sentinels, replacedBefore: [dataNodes[1]], timeoutSeconds: 600, waitForCloudInit: true, intervalSeconds: 2, redisConfPath: "/etc/redis/redis.conf" })],
    ["the boot guard", renderBootGuard({ hostName: common.hostName, masterName: CONFIG.masterName, sentinels, passwordFile: "/etc/redis-ha/sentinel-password", redisConfPath: "/etc/redis/redis.conf", sentinelConfPath: common.sentinelConfPath })],
    ["the host's password files' update", renderHostCredentialsScript({ bootGuardSentinelPassword: "Sp.0123456789-abcdefXYZ", exporters: [{ service: "redis", bindAddress: "10.42.0.11", port: 6379, password: "Rp.0123456789-abcdefXYZ" }, { service: "sentinel", bindAddress: "10.42.0.11", port: 26379, password: "Sp.0123456789-abcdefXYZ" }] })],
    ["the secret delivery", renderSecretDeliveryScript({ hostName: "rha-redis-0", secrets: hostSecrets(SECRETS), files: ["/etc/redis-ha/staged/redis.conf", "/etc/redis-ha/operator.conf"], waitForCloudInit: true, timeoutSeconds: 600 })],
    // The scripts the user-data writes, for every kind of host.
    ...[...allHostVariants(), ...allHostVariants({ ...CONFIG, secretsDelivery: "ssh" }).map((v) => ({ ...v, label: `${v.label}, passwords withheld` }))].flatMap(({ label, files }) => {
        const cloudConfig = parse(files.userData.replace(/^#cloud-config\n/, "")) as { write_files?: Array<{ path: string; content: string }> };
        return (cloudConfig.write_files ?? []).filter((f) => f.content.startsWith("#!")).map((f): [string, string] => [`${label}: ${f.path}`, f.content]);
    }),
];

const shellcheck = spawnSync("shellcheck", ["--version"], { encoding: "utf8" });

test("shellcheck is installed (npm run setup installs it)", () => {
    expect(shellcheck.status).toBe(0);
});

test("the user-data of every kind of host carries scripts to check", () => {
    expect(SCRIPTS.filter(([what]) => what.includes(": /")).length).toBeGreaterThanOrEqual(6);
});

test.each(SCRIPTS)("%s: shellcheck finds no warning", (_what, script) => {
    const result = spawnSync("shellcheck", ["--shell=bash", "--severity=warning", "--format=gcc", "-"], { input: script, encoding: "utf8", timeout: 60000 });
    expect(result.stdout.trim()).toBe("");
    expect(result.status).toBe(0);
});
