/**
 * The settings a running deployment can take without a restart, as the stack wants them: what
 * `CONFIG SET` sets on every data node and `SENTINEL SET` on every Sentinel, and what `CONFIG GET`
 * / `SENTINEL MASTER` must read back afterwards. redis.conf and sentinel.conf render the same values
 * at first boot, from the same functions, so a new node and a rolled-out node agree.
 */
import type { Persistence, RuntimeConfig } from "./model";

export interface RuntimeSetting {
    /** redis: CONFIG SET on every data node; sentinel: SENTINEL SET <master> on every Sentinel. */
    target: "redis" | "sentinel";
    /** The directive, as CONFIG SET / SENTINEL SET name it. */
    key: string;
    /** What is set. */
    value: string;
    /** What CONFIG GET / SENTINEL MASTER answer once it is in force (Redis reports sizes in bytes). */
    readBack: string;
}

/** RDB save points of the persistence modes that snapshot; Redis reads an empty list as "never". */
export function savePoints(mode: Persistence): string {
    return mode === "aof+rdb" || mode === "rdb" ? "3600 1 300 100 60 10000" : "";
}

export function appendOnly(mode: Persistence): "yes" | "no" {
    return mode === "aof+rdb" || mode === "aof" ? "yes" : "no";
}

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3 };

/** A Redis memory size ("512mb", "3gb", "1073741824") in bytes, as Redis itself converts it (memtoull). */
export function memoryBytes(size: string): number {
    const match = /^(\d+)([a-z]*)$/i.exec(size.trim());
    const unit = match ? UNITS[match[2].toLowerCase()] : undefined;
    if (!match || unit === undefined) throw new Error(`${JSON.stringify(size)} is not a Redis memory size (bytes, or a number with b, k, kb, m, mb, g or gb)`);
    return Number(match[1]) * unit;
}

/** Every runtime setting, data nodes first, in a stable order (it is also what `pulumi preview` shows). */
export function runtimeSettings(config: RuntimeConfig): RuntimeSetting[] {
    const redis = (key: string, value: string | number, readBack: string | number = value): RuntimeSetting => ({ target: "redis", key, value: String(value), readBack: String(readBack) });
    const sentinel = (key: string, value: number): RuntimeSetting => ({ target: "sentinel", key, value: String(value), readBack: String(value) });
    return [
        redis("maxmemory", config.maxmemory, memoryBytes(config.maxmemory)),
        redis("maxmemory-policy", config.maxmemoryPolicy),
        redis("appendonly", appendOnly(config.persistence)),
        redis("save", savePoints(config.persistence)),
        redis("min-replicas-to-write", config.minReplicasToWrite),
        redis("min-replicas-max-lag", config.minReplicasMaxLag),
        redis("repl-diskless-sync-delay", config.replDisklessSyncDelay),
        sentinel("down-after-milliseconds", config.downAfterMilliseconds),
        sentinel("failover-timeout", config.failoverTimeoutMilliseconds),
        sentinel("parallel-syncs", config.parallelSyncs),
        sentinel("quorum", config.quorum),
    ];
}

/** One line per setting ("redis maxmemory 128mb"): the rollout's trigger, so a preview diff reads as the change itself. */
export function describeRuntimeSettings(settings: readonly RuntimeSetting[]): string[] {
    return settings.map((s) => `${s.target} ${s.key} ${s.value === "" ? '""' : s.value}`);
}
