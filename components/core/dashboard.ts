/**
 * A Grafana dashboard for one deployment (import it, pick the Prometheus data source): who is master,
 * the replicas and their lag, the Sentinels' view and quorum, failovers over time, memory, commands
 * and errors. Every query selects on `deployment`, a dashboard variable whose default is this
 * deployment, so the same dashboard serves others. The lab loads every panel's query into a real
 * Prometheus and fails if one returns no series (tests/lab/monitoring.test.ts).
 */
import { DEPLOYMENT_LABEL } from "./monitoring";

export interface DashboardPanel {
    title: string;
    /** timeseries, stat or table. */
    type: string;
    description: string;
    unit?: string;
    targets: Array<{ expr: string; legendFormat: string }>;
}

/** The panels, as data; `$deployment` is Grafana's variable. */
export function dashboardPanels(): DashboardPanel[] {
    const d = `${DEPLOYMENT_LABEL}="$deployment"`;
    const redis = `{${d}, service="redis"}`;
    const sentinel = `{${d}, service="sentinel"}`;
    return [
        { title: "Master", type: "stat", description: "The node that reports role master (more than one, or none, pages: RedisHaSeveralMasters, RedisHaNoMaster).",
            targets: [{ expr: `max by (host) (redis_instance_info{${d}, service="redis", role="master"})`, legendFormat: "{{host}}" }] },
        { title: "Who the Sentinels name", type: "table", description: "Each Sentinel's answer to get-master-addr-by-name; they must agree (RedisHaSentinelsDisagree).",
            targets: [{ expr: `max by (host, master_address, master_status) (redis_sentinel_master_status${sentinel})`, legendFormat: "{{host}} -> {{master_address}}" }] },
        { title: "Masters over time (failovers)", type: "timeseries", description: "The master the Sentinels name: a new line is a failover (RedisHaFailover).",
            targets: [{ expr: `max by (master_address) (redis_sentinel_master_status${sentinel})`, legendFormat: "{{master_address}}" }] },
        { title: "Healthy Sentinels and quorum check", type: "timeseries", description: "Healthy Sentinels as each one sees them, and SENTINEL CKQUORUM (1 = a failover can be authorised; RedisHaQuorumAtRisk).",
            targets: [
                { expr: `max by (host) (redis_sentinel_master_ok_sentinels${sentinel})`, legendFormat: "{{host}}: healthy Sentinels" },
                { expr: `max by (host) (redis_sentinel_master_ckquorum_status${sentinel})`, legendFormat: "{{host}}: CKQUORUM ok" },
            ] },
        { title: "Connected replicas", type: "timeseries", description: "Replicas each node has (the master's should be the planned count; RedisHaReplicasMissing).",
            targets: [{ expr: `redis_connected_slaves${redis}`, legendFormat: "{{host}}" }] },
        { title: "Replication lag (seconds since the last ack)", type: "timeseries", unit: "s", description: "Beyond minReplicasMaxLag a replica stops counting for writes (RedisHaReplicationLagSeconds).",
            targets: [{ expr: `redis_connected_slave_lag_seconds${redis}`, legendFormat: "{{slave_ip}}" }] },
        { title: "Replication lag (bytes behind the master)", type: "timeseries", unit: "bytes", description: "Beyond the 1 MiB backlog a dropped link means a full resync (RedisHaReplicationLagBytes).",
            targets: [{ expr: `redis_master_repl_offset${redis} - on (instance) group_right redis_connected_slave_offset_bytes${redis}`, legendFormat: "{{slave_ip}}" }] },
        { title: "Replica links", type: "timeseries", description: "1 while a replica's link to its master is up (RedisHaReplicaLinkDown).",
            targets: [{ expr: `redis_master_link_up${redis}`, legendFormat: "{{host}}" }] },
        { title: "Memory used and maxmemory", type: "timeseries", unit: "bytes", description: "RedisHaMemoryNearLimit at 90% of maxmemory (0 = no limit).",
            targets: [
                { expr: `redis_memory_used_bytes${redis}`, legendFormat: "{{host}} used" },
                { expr: `redis_memory_max_bytes${redis}`, legendFormat: "{{host}} maxmemory" },
            ] },
        { title: "Commands per second", type: "timeseries", unit: "ops", description: "Commands each node processes.",
            targets: [{ expr: `rate(redis_commands_processed_total${redis}[1m])`, legendFormat: "{{host}}" }] },
        { title: "Error replies and refused connections per second", type: "timeseries", unit: "ops", description: "By node (RedisHaErrorReplies, RedisHaAuthFailures, RedisHaRejectedConnections).",
            targets: [
                { expr: `rate(redis_total_error_replies{${d}}[1m])`, legendFormat: "{{host}} {{service}} errors" },
                { expr: `rate(redis_rejected_connections_total{${d}}[1m])`, legendFormat: "{{host}} {{service}} refused" },
            ] },
        { title: "Exporters up", type: "timeseries", description: "1 while Prometheus scrapes the exporter and it reaches its process (RedisHaExporterDown, RedisHaRedisDown, RedisHaSentinelDown).",
            targets: [
                { expr: `up{${d}}`, legendFormat: "{{host}} {{service}} scraped" },
                { expr: `redis_up{${d}}`, legendFormat: "{{host}} {{service}} reachable" },
            ] },
    ];
}

/** The dashboard as Grafana imports it (schema 38, a Prometheus data source chosen at import). */
export function renderDashboard(input: { deployment: string }): string {
    const panels = dashboardPanels().map((p, i) => ({
        id: i + 1,
        title: p.title,
        type: p.type,
        description: p.description,
        datasource: { type: "prometheus", uid: "${DS_PROMETHEUS}" },
        gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
        fieldConfig: { defaults: p.unit ? { unit: p.unit } : {}, overrides: [] },
        targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), expr: t.expr, legendFormat: t.legendFormat, datasource: { type: "prometheus", uid: "${DS_PROMETHEUS}" } })),
    }));
    const dashboard = {
        __inputs: [{ name: "DS_PROMETHEUS", label: "Prometheus", type: "datasource", pluginId: "prometheus", pluginName: "Prometheus" }],
        title: `redis-ha: ${input.deployment}`,
        uid: `redis-ha-${input.deployment}`.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 40),
        tags: ["redis-ha", "redis", "sentinel"],
        schemaVersion: 38,
        time: { from: "now-6h", to: "now" },
        refresh: "30s",
        templating: {
            list: [{
                name: "deployment", label: "deployment", type: "query",
                datasource: { type: "prometheus", uid: "${DS_PROMETHEUS}" },
                query: { query: `label_values(redis_up, ${DEPLOYMENT_LABEL})`, refId: "deployments" },
                current: { text: input.deployment, value: input.deployment },
                refresh: 1,
            }],
        },
        panels,
    };
    return JSON.stringify(dashboard, null, 2) + "\n";
}
