/**
 * Prints Pulumi.yaml from the settings schema, so the file users read and the validation that runs
 * can never disagree (tests/unit/pulumiYaml.test.ts fails if the committed file drifts).
 * Usage: npx ts-node --transpile-only scripts/gen-pulumi-yaml.ts > Pulumi.yaml
 */
import { stringify } from "yaml";
import { SETTINGS_SCHEMA, unsetValue } from "../components/core/settings";

export function pulumiYaml(): string {
    const config: Record<string, Record<string, unknown>> = {};
    for (const s of SETTINGS_SCHEMA) {
        const entry: Record<string, unknown> = { type: s.type };
        if (s.type === "array") entry.items = { type: "string" };
        const notes = [s.description];
        if (s.defaultText) notes.push(`Default: ${s.defaultText}.`);
        if (s.default === undefined) notes.push(`${JSON.stringify(unsetValue(s))} means unset.`);
        if (s.required) notes.push("Required.");
        if (s.secret) notes.push("Set with --secret.");
        entry.description = notes.join(" ");
        const value = unsetValue(s);
        entry.default = s.type === "array" ? JSON.parse(String(value)) : value;
        config[`redis-ha:${s.key}`] = entry;
    }
    const header = "# Generated from components/core/settings.ts by scripts/gen-pulumi-yaml.ts; edit the schema, not this file.\n";
    return header + stringify({
        name: "redis-ha",
        runtime: { name: "nodejs", options: { typescript: true } },
        // package.json's "main" is the component library; the stack program is index.ts.
        main: "index.ts",
        description: "Self-healing Redis (master, replicas, Sentinel quorum) on OVHcloud or DigitalOcean",
        config,
    }, { lineWidth: 0 });
}

if (require.main === module) process.stdout.write(pulumiYaml());
