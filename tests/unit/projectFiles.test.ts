/** The files a user reads must agree with the code that runs. */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { SETTINGS_SCHEMA, validateStackConfig } from "../../components/core/settings";
import { pulumiYaml, readmeWithConfigTable } from "../../scripts/gen-pulumi-yaml";

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
