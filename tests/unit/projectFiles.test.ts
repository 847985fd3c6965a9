/** The files a user reads must agree with the code that runs. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { SETTINGS_SCHEMA, validateStackConfig } from "../../components/core/settings";
import { pulumiYaml, readmeWithConfigTable, redisHaArgsSource } from "../../scripts/gen-pulumi-yaml";

const root = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(root, file), "utf8");

test("Pulumi.yaml declares every setting exactly as the schema does (regenerate with scripts/gen-pulumi-yaml.ts)", () => {
    expect(read("Pulumi.yaml")).toBe(pulumiYaml());
});

test("Pulumi.yaml defaults pass validation on their own", () => {
    const declared = parse(read("Pulumi.yaml")).config as Record<string, { default?: unknown }>;
    const defaults = Object.fromEntries(Object.entries(declared).filter(([, d]) => "default" in d).map(([k, d]) => [k.replace("redis-ha:", ""), typeof d.default === "string" ? d.default : JSON.stringify(d.default)]));
    expect(Object.keys(defaults).length).toBeGreaterThan(15);
    const { settings } = validateStackConfig({
        ...defaults,
        ovhProjectId: "5f0e1d2c3b4a59687766554433221100",
        sshPublicKeys: '["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHv7Yy3cUQG9kJ0c4Tq0nq1J2ZpM0dO2L8F4m7cP1t5E a@b"]',
        adminCidrs: '["203.0.113.10/32"]',
        appCidrs: '["10.42.0.128/25"]',
        redisPassword: "Rp.0123456789-abcdefXYZ",
        sentinelPassword: "Sp.0123456789-abcdefXYZ",
    });
    expect(settings.sentinelCount).toBe(3);
});

test("the README's config table is the settings model's (regenerate with scripts/gen-pulumi-yaml.ts --readme)", () => {
    const readme = read("README.md");
    expect(readme).toBe(readmeWithConfigTable(readme));
});

test("the README's config reference lists every setting", () => {
    const readme = read("README.md");
    const missing = SETTINGS_SCHEMA.filter((s) => !readme.includes(`\`${s.key}\``)).map((s) => s.key);
    expect(missing).toEqual([]);
});

test(".ci/run runs the README's set-up and test commands", () => {
    const ci = read(".ci/run");
    const readme = read("README.md");
    for (const command of ["npm run setup", "npm test"]) {
        expect(ci).toContain(command);
        expect(readme).toContain(command);
    }
});

test("the README names every peer dependency of the package with the range package.json declares", () => {
    const readme = read("README.md");
    const manifest = JSON.parse(read("package.json")) as { peerDependencies: Record<string, string> };
    const missing = Object.entries(manifest.peerDependencies).filter(([name, range]) => !readme.includes(`\`${name}\` ${range}`)).map(([name, range]) => `${name} ${range}`);
    expect(missing).toEqual([]);
});

test("every Node the README and engines claim is one CI runs (tools/node-versions and the machine's)", () => {
    const manifest = JSON.parse(read("package.json")) as { engines: { node: string } };
    const claimed = manifest.engines.node.split("||").map((r) => Number(/\^(\d+)\./.exec(r.trim())![1]));
    // The machine's own Node, whichever Node runs this test (scripts/test-node.sh puts another first on PATH).
    const machinePath = (process.env.PATH ?? "").split(":").filter((dir) => !dir.includes(path.join(".tools", "node"))).join(":");
    const machineNode = spawnSync("node", ["--version"], { encoding: "utf8", env: { ...process.env, PATH: machinePath } }).stdout.trim();
    const proven = [Number(machineNode.slice(1).split(".")[0]), ...read("tools/node-versions").split("\n").filter(Boolean).map((v) => Number(v.split(".")[0]))];
    expect([...new Set(proven)].sort()).toEqual(claimed.sort());
});

test("RedisHa's args are the settings model's (regenerate with scripts/gen-pulumi-yaml.ts --redis-ha-args)", () => {
    expect(read("components/redisHaArgs.ts")).toBe(redisHaArgsSource());
});

test("the plugin is the package, at the package's version", () => {
    const manifest = JSON.parse(read("package.json")) as { name: string; version: string };
    const plugin = JSON.parse(read("plugin/package.json")) as { name: string; version: string };
    expect({ name: plugin.name, version: plugin.version }).toEqual({ name: manifest.name, version: manifest.version });
    expect(JSON.parse(read("plugin/schema.json")).version).toBe(manifest.version);
});
