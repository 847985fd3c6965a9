/**
 * Every user-data the renderers produce must pass Debian's real cloud-init schema validation.
 * (`--annotate` always exits 0 and unknown top-level keys pass silently, so the key set is
 * asserted separately in renderers.test.ts.)
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { CONFIG, allHostVariants } from "../support/render";

const cloudInit = spawnSync("cloud-init", ["--version"], { encoding: "utf8" });
const available = cloudInit.status === 0;
if (!available) {
    // Loud on purpose: `npm run setup` installs cloud-init; without it this file proves nothing.
    console.warn("SKIPPED: cloud-init is not installed, so rendered user-data is NOT validated. Run `npm run setup`.");
}
const maybe = available ? test : test.skip;

describe("cloud-init schema", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redis-ha-schema-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    const variants = [...allHostVariants(), ...allHostVariants({ ...CONFIG, secretsDelivery: "ssh" }).map((v) => ({ ...v, label: `${v.label}, passwords withheld` }))];
    maybe.each(variants.map((v) => [v.label, v.files.userData] as const))("%s is valid cloud-config", (label, userData) => {
        const file = path.join(dir, `${label.replace(/\W+/g, "-")}.yaml`);
        fs.writeFileSync(file, userData);
        const out = execFileSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
        expect(out).toContain("Valid");
    });

    maybe("a broken user-data is caught (the validator is really running)", () => {
        const file = path.join(dir, "broken.yaml");
        fs.writeFileSync(file, "#cloud-config\npackages: 42\nwrite_files:\n  - content: no path\n");
        const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
        expect(result.status).not.toBe(0);
    });
});
