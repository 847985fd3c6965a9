/**
 * Parsers for what the check script prints and for Redis's own INFO / SENTINEL replies. Pure, so
 * the deployment, the lab and the benchmarks all read health the same way.
 */

export interface SentinelView { sentinel: string; master: string }
export interface QuorumView { sentinel: string; ok: boolean; detail: string }
export interface ReplicaView { master: string; replica: string; state: string; lag: number | undefined }

export interface CheckReport {
    ok: boolean;
    attempts: number;
    sentinels: SentinelView[];
    /** How many healthy replicas each Sentinel knows. */
    knownReplicas: Array<{ sentinel: string; replicas: number }>;
    quorum: QuorumView[];
    replicas: ReplicaView[];
    /** One line each: the node and the fact that is wrong. */
    failures: string[];
    /** The master all Sentinels agree on, if they agree. */
    agreedMaster?: string;
    /** The host's own facts judged sound (build, listen, protected-mode, acl, secrets; docs/security.md), one line each. */
    hardened: string[];
}

export class CheckOutputError extends Error {}

/** The report of a check that has not run: not healthy, and saying why. */
export function checkNotRun(): CheckReport {
    return { ok: false, attempts: 0, sentinels: [], knownReplicas: [], quorum: [], replicas: [], hardened: [], failures: ["the check has not run (nothing was deployed: a plan or a test under mocks)"] };
}

export function parseCheckOutput(stdout: string): CheckReport {
    const report: CheckReport = { ok: false, attempts: 0, sentinels: [], knownReplicas: [], quorum: [], replicas: [], hardened: [], failures: [] };
    let sawResult = false;
    for (const raw of stdout.split("\n")) {
        const line = raw.trimEnd();
        let m: RegExpExecArray | null;
        if ((m = /^SENTINEL (\S+) master=(\S+)$/.exec(line))) report.sentinels.push({ sentinel: m[1], master: m[2] });
        else if ((m = /^KNOWS (\S+) replicas=(\d+)$/.exec(line))) report.knownReplicas.push({ sentinel: m[1], replicas: Number(m[2]) });
        else if ((m = /^QUORUM (\S+) (ok|fail) ?(.*)$/.exec(line))) report.quorum.push({ sentinel: m[1], ok: m[2] === "ok", detail: m[3] });
        else if ((m = /^REPLICA (\S+) (\S+) state=(\S*) lag=(\d*)$/.exec(line))) {
            report.replicas.push({ master: m[1], replica: m[2], state: m[3], lag: m[4] === "" ? undefined : Number(m[4]) });
        } else if ((m = /^HARDEN (\S+) ok (.*)$/.exec(line))) report.hardened.push(`${m[1]} ${m[2]}`);
        else if ((m = /^FAIL (.+)$/.exec(line))) report.failures.push(m[1]);
        else if ((m = /^RESULT (ok|fail) attempts=(\d+)$/.exec(line))) {
            sawResult = true;
            report.ok = m[1] === "ok";
            report.attempts = Number(m[2]);
        }
    }
    if (!sawResult) throw new CheckOutputError("the check printed no RESULT line: it did not run to the end (SSH dropped, or bash missing?)");
    const masters = new Set(report.sentinels.map((s) => s.master));
    if (masters.size === 1) report.agreedMaster = [...masters][0];
    return report;
}

/** INFO output as a key -> value map; section headers and blank lines are skipped. */
export function parseInfo(text: string): Map<string, string> {
    const fields = new Map<string, string>();
    for (const raw of text.split(/\r?\n/)) {
        if (raw === "" || raw.startsWith("#")) continue;
        const at = raw.indexOf(":");
        if (at > 0) fields.set(raw.slice(0, at), raw.slice(at + 1));
    }
    return fields;
}

export interface ReplicationInfo {
    role: "master" | "slave";
    /** On a master: each connected replica. */
    replicas: Array<{ address: string; state: string; offset: number; lag: number }>;
    /** On a replica: its master and link state. */
    masterAddress?: string;
    masterLinkUp?: boolean;
    offset: number;
}

export function parseReplicationInfo(text: string): ReplicationInfo {
    const info = parseInfo(text);
    const role = info.get("role");
    if (role !== "master" && role !== "slave") throw new CheckOutputError(`INFO replication has no usable role (got ${JSON.stringify(role)})`);
    const replicas: ReplicationInfo["replicas"] = [];
    for (const [key, value] of info) {
        if (!/^slave\d+$/.test(key)) continue;
        const parts = new Map(value.split(",").map((kv) => kv.split("=") as [string, string]));
        replicas.push({
            address: `${parts.get("ip")}:${parts.get("port")}`,
            state: parts.get("state") ?? "unknown",
            offset: Number(parts.get("offset") ?? 0),
            lag: Number(parts.get("lag") ?? 0),
        });
    }
    return {
        role,
        replicas,
        masterAddress: role === "slave" ? `${info.get("master_host")}:${info.get("master_port")}` : undefined,
        masterLinkUp: role === "slave" ? info.get("master_link_status") === "up" : undefined,
        offset: Number(info.get(role === "master" ? "master_repl_offset" : "slave_repl_offset") ?? 0),
    };
}

/** SENTINEL MASTER / REPLICAS / SENTINELS replies, as redis-cli --raw prints them: alternating field and value lines. */
export function parseSentinelFields(text: string): Map<string, string> {
    const lines = text.split(/\r?\n/).filter((l) => l !== "");
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < lines.length; i += 2) fields.set(lines[i], lines[i + 1]);
    return fields;
}

/**
 * SENTINEL REPLICAS as redis-cli --raw prints it: every replica's field/value lines one after the
 * other, each replica starting at "name". Empty values (an unknown run id) are kept as empty lines,
 * so the pairs stay aligned.
 */
export function parseSentinelReplicas(text: string): Array<Map<string, string>> {
    const lines = text.split(/\r?\n/);
    if (lines[lines.length - 1] === "") lines.pop();
    const replicas: Array<Map<string, string>> = [];
    for (let i = 0; i + 1 < lines.length; i += 2) {
        if (lines[i] === "name" || replicas.length === 0) replicas.push(new Map());
        replicas[replicas.length - 1].set(lines[i], lines[i + 1]);
    }
    return replicas;
}

/** Replicas a Sentinel still remembers as masters (role-reported master): a failover now could be undone. */
export function replicasRememberedAsMasters(sentinelReplicasRaw: string): string[] {
    return parseSentinelReplicas(sentinelReplicasRaw).filter((r) => r.get("role-reported") === "master").map((r) => r.get("name") ?? "?");
}
