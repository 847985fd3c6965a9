/**
 * The lab's entry point for the Pulumi engine: one action per call, a JSON request on stdin, a JSON
 * answer on stdout. The LabPlatform's dynamic resources run it, so each lab network and host is a
 * resource that `pulumi up` creates and `pulumi destroy` deletes.
 *
 *   network-up | network-down | host-up | host-down | check
 */
import { LabHost, LabSpec, hostDown, hostUp, networkDown, networkUp, sshArgv } from "./machine";
import { runAsync } from "./shell";

interface Request {
    spec: LabSpec;
    host?: LabHost;
    userData?: string;
    nftables?: string;
    /** check: the address to SSH to, the login user, the script and its time budget. */
    address?: string;
    user?: string;
    script?: string;
    timeoutSeconds?: number;
}

async function main(action: string, request: Request): Promise<unknown> {
    switch (action) {
        case "network-up":
            networkUp(request.spec);
            return {};
        case "network-down":
            networkDown(request.spec);
            return {};
        case "host-up":
            await hostUp(request.spec, request.host!, request.userData!, request.nftables!);
            return {};
        case "host-down":
            hostDown(request.spec, request.host!.namespace);
            return {};
        case "check": {
            // From this machine's namespace, over the lab's operator link: as `pulumi up` reaches a cloud VM.
            const result = await runAsync([...sshArgv(request.spec, request.user!, request.address!), "bash -s"], { input: request.script, timeoutMs: (request.timeoutSeconds! + 60) * 1000 });
            if (result.status !== 0) throw new Error(result.stderr.trim() || `the check exited ${result.status}`);
            return { stdout: result.stdout };
        }
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
