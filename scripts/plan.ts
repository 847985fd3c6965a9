/**
 * `npm run plan -- --stack <name> [--json] [--out DIR]`: the `helm template` of redis-ha. Runs the
 * real program for a stack's config under Pulumi's mocks (no credentials, nothing created), prints
 * every resource it would create, and writes every rendered file to DIR.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { RecordedResource, readStackConfig, runProgram } from "./lib/mockCloud";
import type { MonitoringOutputs } from "../components/core/monitoring";
import { formatTable } from "./lib/table";
import { parseCommandLine, runMain } from "./lib/cli";

interface Options { stack: string; json: boolean; out?: string; dir?: string }

const PLAN_USAGE = "npm run plan -- --stack <name> [--json] [--out DIR] [--dir PROJECT_DIR]";

export function parsePlanArgs(argv: string[]): Options {
    const { values } = parseCommandLine({
        args: argv,
        options: { stack: { type: "string", short: "s" }, json: { type: "boolean", default: false }, out: { type: "string" }, dir: { type: "string" } },
    }, PLAN_USAGE);
    if (!values.stack) throw new Error(`--stack is required; usage: ${PLAN_USAGE}`);
    return { stack: values.stack, json: values.json ?? false, out: values.out, dir: values.dir };
}

const SHORT_TYPE: Record<string, string> = {
    "openstack:compute/instance:Instance": "openstack Instance",
    "openstack:compute/serverGroup:ServerGroup": "openstack ServerGroup",
    "openstack:networking/port:Port": "openstack Port",
    "openstack:networking/secGroup:SecGroup": "openstack SecGroup",
    "openstack:networking/secGroupRule:SecGroupRule": "openstack SecGroupRule",
    "ovh:CloudProject/networkPrivate:NetworkPrivate": "ovh NetworkPrivate",
    "ovh:CloudProject/networkPrivateSubnet:NetworkPrivateSubnet": "ovh NetworkPrivateSubnet",
    "digitalocean:index/droplet:Droplet": "do Droplet",
    "digitalocean:index/vpc:Vpc": "do Vpc",
    "digitalocean:index/vpcPeering:VpcPeering": "do VpcPeering",
    "digitalocean:index/firewall:Firewall": "do Firewall",
    "digitalocean:index/tag:Tag": "do Tag",
    "command:remote:Command": "command remote.Command",
};

/** Where a resource lives and the settings a reviewer wants to see, by type. */
export function describe(r: RecordedResource): { zone: string; settings: string } {
    const i = r.inputs;
    switch (r.type) {
        case "openstack:compute/instance:Instance":
            return { zone: i.availabilityZone, settings: `flavor=${i.flavorName} image=${JSON.stringify(i.imageName)} role=${i.metadata?.["redis-ha-role"]}` };
        case "openstack:networking/port:Port":
            return { zone: i.region, settings: i.fixedIps?.length ? `fixed ${i.fixedIps.map((f: any) => f.ipAddress).join(",")}` : "public (Ext-Net)" };
        case "openstack:networking/secGroupRule:SecGroupRule":
            return { zone: i.region, settings: `tcp/${i.portRangeMin} from ${i.remoteIpPrefix ?? "the cluster group"} (${i.description})` };
        case "ovh:CloudProject/networkPrivateSubnet:NetworkPrivateSubnet":
            return { zone: i.region, settings: `${i.network} dhcp ${i.start}-${i.end}` };
        case "ovh:CloudProject/networkPrivate:NetworkPrivate":
            return { zone: (i.regions ?? []).join(","), settings: `vlan ${i.vlanId}` };
        case "openstack:compute/serverGroup:ServerGroup":
            return { zone: i.region, settings: `policies=${(i.policies ?? []).join(",")}` };
        case "digitalocean:index/droplet:Droplet":
            return { zone: i.region, settings: `size=${i.size} image=${i.image} tags=${(i.tags ?? []).join(",")}` };
        case "digitalocean:index/vpc:Vpc":
            return { zone: i.region, settings: `ip_range=${i.ipRange}` };
        case "digitalocean:index/firewall:Firewall":
            return {
                zone: "-",
                settings: `tags=${(i.tags ?? []).join(",")} in: ${(i.inboundRules ?? []).map((rule: any) => `tcp/${rule.portRange} from ${(rule.sourceAddresses ?? rule.sourceTags ?? []).join("+")}`).join("; ") || "nothing"}`,
            };
        case "command:remote:Command":
            return { zone: "-", settings: `ssh ${i.connection?.user}@${i.connection?.host}: ${i.create}` };
        default:
            return { zone: i.region ?? "-", settings: "" };
    }
}

function writeFiles(out: string, resources: RecordedResource[], monitoring?: MonitoringOutputs): string[] {
    const written: string[] = [];
    const write = (file: string, content: string) => {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
        written.push(file);
    };
    for (const r of resources) {
        if (typeof r.inputs.userData === "string") {
            const hostDir = path.join(out, r.name);
            write(path.join(hostDir, "user-data"), r.inputs.userData);
            const document = parse(r.inputs.userData);
            // The two configs again at the top of the host's folder, where a reviewer looks first.
            for (const file of document.write_files ?? []) {
                if (/\/(redis|sentinel)\.conf$/.test(file.path)) write(path.join(hostDir, path.basename(file.path)), file.content);
            }
            for (const file of document.write_files ?? []) write(path.join(hostDir, "files", file.path), file.content);
        }
        if (r.type === "command:remote:Command" && typeof r.inputs.stdin === "string") {
            write(path.join(out, "checks", `${r.name}.sh`), r.inputs.stdin);
        }
    }
    if (monitoring) {
        write(path.join(out, "monitoring", "prometheus-scrape.yml"), monitoring.prometheusScrapeConfig);
        write(path.join(out, "monitoring", "alert-rules.yml"), monitoring.alertRules);
        write(path.join(out, "monitoring", "alertmanager-route.yml"), monitoring.alertmanagerRoute);
        write(path.join(out, "monitoring", "grafana-dashboard.json"), monitoring.grafanaDashboard);
    }
    return written;
}


async function main(): Promise<number> {
    const options = parsePlanArgs(process.argv.slice(2));
    const stackConfig = readStackConfig(options.stack, options.dir);
    const run = await runProgram(stackConfig, () => require("../index"));
    if (run.error !== undefined) {
        console.error(run.error instanceof Error ? run.error.message : String(run.error));
        return 2;
    }
    const rows = run.resources.map((r) => ({ type: SHORT_TYPE[r.type] ?? r.type, name: r.name, ...describe(r) }));
    const written = options.out ? writeFiles(path.resolve(options.out), run.resources, run.outputs.monitoring as MonitoringOutputs | undefined) : [];
    const { clientEnvironment: _secret, ...outputs } = run.outputs;
    if (options.json) {
        console.log(JSON.stringify({ stack: options.stack, placeholders: stackConfig.placeholders, resources: rows, outputs, files: written }, null, 2));
        return 0;
    }
    console.log(`redis-ha plan for stack ${options.stack}: ${rows.length} resources (mocks; nothing is created)\n`);
    console.log(formatTable([["TYPE", "NAME", "ZONE", "SETTINGS"], ...rows.map((r) => [r.type, r.name, r.zone ?? "-", r.settings])]));
    console.log("\nNodes:");
    const nodes = (outputs.nodes ?? []) as Array<Record<string, unknown>>;
    console.log(formatTable([["NAME", "ZONE", "ROLE", "SENTINEL", "PRIVATE ADDRESS"], ...nodes.map((n) => [String(n.name), String(n.zone), String(n.initialRole), n.sentinel ? "yes" : "no", String(n.privateAddress)])]));
    for (const warning of (outputs.planWarnings ?? []) as string[]) console.log(`\nwarning: ${warning}`);
    if (stackConfig.placeholders.length > 0) {
        console.log(`\nnote: ${stackConfig.placeholders.join(", ")} rendered with plan-only placeholders (secrets are never read by plan).`);
    }
    if (options.out) console.log(`\nwrote ${written.length} files under ${path.resolve(options.out)}`);
    return 0;
}

if (require.main === module) runMain(main, 2);
