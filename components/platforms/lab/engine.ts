/**
 * The lab's entry point for the Pulumi engine: one action per call, a JSON request on stdin, a JSON
 * answer on stdout. The LabPlatform's dynamic resources run it, so each lab network and host is a
 * resource that `pulumi up` creates and `pulumi destroy` deletes.
 *
 *   network-up | network-down | host-up | host-firewall | host-down | prometheus-up | prometheus-down
 *
 * The post-deploy checks are not here: they are @pulumi/command remote.Command resources, as on a
 * cloud, over SSH through the lab's operator link with the key that network-up hands back.
 */
import * as fs from "fs";
import { LabHost, LabSpec, hostDown, hostUp, labKeyFile, networkDown, networkUp, setHostFirewall } from "./machine";
import { LabPrometheusConfig, labPrometheusUrl, prometheusDown, prometheusUp } from "./prometheus";

interface Request {
    spec: LabSpec;
    host?: LabHost;
    userData?: string;
    nftables?: string;
    prometheus?: LabPrometheusConfig;
}

async function main(action: string, request: Request): Promise<unknown> {
    switch (action) {
        case "network-up":
            networkUp(request.spec);
            // The login key the lab put on every host, for the checks' SSH (a secret output in the stack).
            return { loginPrivateKey: fs.readFileSync(labKeyFile(request.spec), "utf8"), loginPublicKey: fs.readFileSync(`${labKeyFile(request.spec)}.pub`, "utf8").trim() };
        case "network-down":
            networkDown(request.spec);
            return {};
        case "host-up":
            await hostUp(request.spec, request.host!, request.userData!, request.nftables!);
            return {};
        case "host-firewall":
            // A changed firewall policy reaches a running host in place (nft -f replaces the table atomically).
            setHostFirewall(request.spec, request.host!, request.nftables!);
            return {};
        case "host-down":
            hostDown(request.spec, request.host!.namespace);
            return {};
        case "prometheus-up":
            // Also a reload: a running Prometheus takes a changed config in place.
            await prometheusUp(request.spec, request.prometheus!);
            return { url: labPrometheusUrl(request.spec) };
        case "prometheus-down":
            await prometheusDown(request.spec);
            return {};
        default:
            throw new Error(`unknown lab engine action ${action}`);
    }
}

const chunks: Buffer[] = [];
process.stdin.on("data", (d: Buffer) => chunks.push(d));
process.stdin.on("end", () => {
    main(process.argv[2], JSON.parse(Buffer.concat(chunks).toString("utf8")) as Request).then(
        (answer) => {
            process.stdout.write(JSON.stringify(answer));
            process.exit(0);
        },
        (e) => {
            process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
});
