/**
 * A scripted Sentinel on loopback: enough of the protocol for a client library's Sentinel mode
 * (HELLO refused so it falls back to RESP2, AUTH, CLIENT, SENTINEL get-master-addr-by-name /
 * sentinels, SUBSCRIBE), with a hook that runs before a master lookup is answered. Real Sentinels
 * cannot be made to publish +switch-master at a chosen instant; this one can, which is what turns a
 * one-in-thirty race into a test that fails every time it is present.
 */
import * as net from "net";

export interface Endpoint { host: string; port: number }

/** Parses whole RESP arrays of bulk strings (what clients send); returns the unparsed remainder. */
export function parseRespCommands(buffer: Buffer): { commands: string[][]; rest: Buffer } {
    const commands: string[][] = [];
    let at = 0;
    const line = (from: number): { text: string; next: number } | undefined => {
        const end = buffer.indexOf("\r\n", from);
        return end === -1 ? undefined : { text: buffer.toString("latin1", from, end), next: end + 2 };
    };
    for (;;) {
        const header = line(at);
        if (!header || !header.text.startsWith("*")) break;
        const count = Number(header.text.slice(1));
        let cursor = header.next;
        const args: string[] = [];
        for (let i = 0; i < count; i++) {
            const size = line(cursor);
            if (!size || !size.text.startsWith("$")) return { commands, rest: buffer.subarray(at) };
            const length = Number(size.text.slice(1));
            if (buffer.length < size.next + length + 2) return { commands, rest: buffer.subarray(at) };
            args.push(buffer.toString("utf8", size.next, size.next + length));
            cursor = size.next + length + 2;
        }
        commands.push(args);
        at = cursor;
    }
    return { commands, rest: buffer.subarray(at) };
}

const bulk = (s: string): string => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
const array = (items: string[]): string => `*${items.length}\r\n${items.map(bulk).join("")}`;

export class FakeSentinel {
    private readonly server = net.createServer((socket) => this.serve(socket));
    private readonly sockets = new Set<net.Socket>();
    private readonly subscribers = new Set<net.Socket>();
    /** Runs before the next master lookup is answered; cleared when it runs. */
    beforeNextLookup?: () => Promise<void>;
    lookups = 0;
    /** Answers lookup number `n` (from 1) with another master when it returns one: a master that is gone, say. */
    masterForLookup?: (n: number) => Endpoint | undefined;
    /** The replicas it names (SENTINEL replicas / slaves), each as Sentinel's list of fields. */
    replicas: Endpoint[] = [];
    replicaLookups = 0;

    private constructor(readonly masterName: string, public master: Endpoint) {}

    static async start(masterName: string, master: Endpoint): Promise<FakeSentinel> {
        const fake = new FakeSentinel(masterName, master);
        await new Promise<void>((resolve, reject) => {
            fake.server.once("error", reject);
            fake.server.listen(0, "127.0.0.1", () => resolve());
        });
        return fake;
    }

    get port(): number { return (this.server.address() as net.AddressInfo).port; }

    get subscriberCount(): number { return this.subscribers.size; }

    /** Sends `+switch-master` to every subscribed connection; returns those connections. */
    publishSwitchMaster(): net.Socket[] {
        const payload = `${this.masterName} 127.0.0.1 1 ${this.master.host} ${this.master.port}`;
        const reached = [...this.subscribers];
        for (const s of reached) s.write(array(["message", "+switch-master", payload]));
        return reached;
    }

    /**
     * Publishes `+switch-master` and resolves once every connection that heard it has hung up, which
     * is what a client's failover detector does when it acts on the message (ioredis closes its
     * subscriptions as it disconnects). That hang-up, not a pause, is what orders the test's steps.
     * Returns how many connections heard it; rejects after `timeoutMs` if one never hangs up.
     */
    async publishSwitchMasterAndAwaitHangUp(timeoutMs: number): Promise<number> {
        const reached = this.publishSwitchMaster();
        await Promise.race([
            Promise.all(reached.map((s) => (s.destroyed ? Promise.resolve() : new Promise<void>((resolve) => s.once("close", () => resolve()))))),
            new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`a subscriber that heard +switch-master still had not hung up after ${timeoutMs} ms`)), timeoutMs).unref()),
        ]);
        return reached.length;
    }

    async close(): Promise<void> {
        for (const s of this.sockets) s.destroy();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private serve(socket: net.Socket): void {
        this.sockets.add(socket);
        socket.on("close", () => { this.sockets.delete(socket); this.subscribers.delete(socket); });
        socket.on("error", () => undefined);
        let pending: Buffer = Buffer.alloc(0);
        // Replies go out in request order even when a lookup is held back by the hook.
        let queue = Promise.resolve();
        socket.on("data", (chunk: Buffer) => {
            const { commands, rest } = parseRespCommands(Buffer.concat([pending, chunk]));
            pending = rest;
            for (const command of commands) {
                queue = queue.then(async () => {
                    const reply = await this.answer(socket, command);
                    if (!socket.destroyed) socket.write(reply);
                });
            }
        });
    }

    private async answer(socket: net.Socket, [name, ...args]: string[]): Promise<string> {
        const command = name.toUpperCase();
        if (command === "HELLO") return "-ERR unknown command 'HELLO'\r\n";
        if (command === "PING") return "+PONG\r\n";
        if (command === "SUBSCRIBE") {
            this.subscribers.add(socket);
            return args.map((channel, i) => `*3\r\n${bulk("subscribe")}${bulk(channel)}:${i + 1}\r\n`).join("");
        }
        if (command === "SENTINEL" && args[0]?.toLowerCase() === "get-master-addr-by-name") {
            this.lookups += 1;
            const hook = this.beforeNextLookup;
            this.beforeNextLookup = undefined;
            if (hook) await hook();
            const master = this.masterForLookup?.(this.lookups) ?? this.master;
            return args[1] === this.masterName ? array([master.host, String(master.port)]) : "*-1\r\n";
        }
        if (command === "SENTINEL" && ["replicas", "slaves"].includes(args[0]?.toLowerCase()) && args[1] === this.masterName) {
            this.replicaLookups += 1;
            // Field positions as Sentinel sends them (clients read ip at 3, port at 5, flags at 9).
            const fields = (r: Endpoint) => array(["name", `${r.host}:${r.port}`, "ip", r.host, "port", String(r.port), "runid", "", "flags", "slave", "master-link-status", "ok"]);
            return `*${this.replicas.length}\r\n${this.replicas.map(fields).join("")}`;
        }
        if (command === "SENTINEL") return "*0\r\n";
        return "+OK\r\n";
    }
}
