/**
 * A bare redis-server on loopback for the client tests (no rendered config: what is tested is the
 * client), and a port nothing listens on, for a node that is gone.
 */
import { spawn, spawnSync } from "child_process";
import * as net from "net";
import { waitFor } from "../../lab/drill";

export async function portNobodyListensOn(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** A loopback redis-server; another port is tried if something took the chosen one meanwhile. */
export async function startRedis(dir: string, extraArgs: string[] = []): Promise<{ process: ReturnType<typeof spawn>; port: number }> {
    let lastError = "";
    for (let attempt = 0; attempt < 5; attempt++) {
        const port = await portNobodyListensOn();
        const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...extraArgs], { stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
        let exited = false;
        child.once("exit", () => (exited = true));
        try {
            await waitFor("redis-server to answer", () => exited || spawnSync("redis-cli", ["-p", String(port), "PING"]).stdout?.toString().trim() === "PONG", 10000);
        } catch (e) {
            child.kill("SIGKILL");
            throw e;
        }
        if (!exited) return { process: child, port };
        lastError = output.trim().split("\n").slice(-1)[0] ?? "";
    }
    throw new Error(`redis-server would not start on a loopback port: ${lastError}`);
}
