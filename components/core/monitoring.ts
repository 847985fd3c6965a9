/**
 * Monitoring as data: where the exporters listen, what Prometheus scrapes, the alert rules and an
 * Alertmanager route, rendered per deployment. Pure, so `promtool` can test exactly what a stack
 * outputs (tests/unit/monitoring.test.ts) and the lab's Prometheus loads the same rules.
 *
 * Every series carries `deployment` (set on the scrape targets), and every rule selects on it, so one
 * Prometheus can watch several deployments and an alert says which one it is about. Metric names are
 * those of Debian 12's prometheus-redis-exporter 1.45 (and so of Debian 13's 1.69): nothing here needs
 * `redis_sentinel_master_setting_*` (1.56 and newer); the quorum is rendered into the rules instead.
 */
import { stringify } from "yaml";
import { renderDashboard } from "./dashboard";

/** The exporter of a host's Redis (prometheus-redis-exporter's own default port). */
export const REDIS_EXPORTER_PORT = 9121;
/** The exporter of a host's Sentinel: a second instance of the same exporter, which switches to Sentinel metrics by itself. */
export const SENTINEL_EXPORTER_PORT = 9122;

/** The label every target and alert carries; its value names the deployment. */
export const DEPLOYMENT_LABEL = "deployment";

/** Where the alerts' runbook annotations point by default (the file ships in the package), each with the alert's anchor. */
export const DEFAULT_RUNBOOK = "docs/monitoring.md";

export interface MonitoredHost {
    name: string;
    zone: string;
    address: string;
    redis: boolean;
    sentinel: boolean;
}

/**
 * How long a condition must hold before it pages, and the windows rates are taken over. The
 * defaults suit a 15 s scrape interval; the lab renders the same rules with shorter ones so its
 * drills see them fire within seconds.
 */
export interface AlertTiming {
    /** Conditions that mean writes are failing now (no master): a failover finishes well within it. Default "30s". */
    urgent: string;
    /** Everything else that holds: long enough that one slow or failed scrape never pages. Default "2m". */
    sustained: string;
    /** How long after a failover its alert stays up. Default "10m". */
    failoverWindow: string;
    /** The window of rates and increases. Default "5m". */
    rateWindow: string;
}

export const DEFAULT_ALERT_TIMING: AlertTiming = { urgent: "30s", sustained: "2m", failoverWindow: "10m", rateWindow: "5m" };

export interface MonitoringInput {
    /** The `deployment` label's value: the stack's or the component's name. */
    deployment: string;
    masterName: string;
    quorum: number;
    /** Replicas the master should have (the plan's replica count). */
    replicaCount: number;
    /** Seconds of replica lag beyond which it stops counting for writes (minReplicasMaxLag). */
    maxLagSeconds: number;
    hosts: readonly MonitoredHost[];
    /** Default 15 s, Prometheus's own default. */
    scrapeIntervalSeconds?: number;
    timing?: AlertTiming;
    /** The runbook the alerts link to, e.g. your wiki's copy of docs/monitoring.md. Default DEFAULT_RUNBOOK. */
    runbook?: string;
}

export interface ScrapeTarget {
    target: string;
    labels: { deployment: string; host: string; zone: string; service: "redis" | "sentinel" };
}

/** Every exporter of the deployment, labelled. */
export function scrapeTargets(input: Pick<MonitoringInput, "deployment" | "hosts">): ScrapeTarget[] {
    return input.hosts.flatMap((h) => [
        ...(h.redis ? [{ target: `${h.address}:${REDIS_EXPORTER_PORT}`, labels: { deployment: input.deployment, host: h.name, zone: h.zone, service: "redis" as const } }] : []),
        ...(h.sentinel ? [{ target: `${h.address}:${SENTINEL_EXPORTER_PORT}`, labels: { deployment: input.deployment, host: h.name, zone: h.zone, service: "sentinel" as const } }] : []),
    ]);
}

/** The job name of a deployment in prometheus.yml. */
export const jobName = (deployment: string) => `redis-ha-${deployment}`;

/** A `scrape_configs` entry for prometheus.yml (static targets, one group per host and service). */
export function renderScrapeConfig(input: Pick<MonitoringInput, "deployment" | "hosts" | "scrapeIntervalSeconds">): string {
    const interval = input.scrapeIntervalSeconds ?? 15;
    const document = {
        scrape_configs: [{
            job_name: jobName(input.deployment),
            scrape_interval: `${interval}s`,
            // Below the interval: a scrape that hangs (the exporter waits on a Redis that vanished) ends as up == 0.
            scrape_timeout: `${Math.max(1, Math.min(10, interval - 1))}s`,
            static_configs: scrapeTargets(input).map((t) => ({ targets: [t.target], labels: t.labels })),
        }],
    };
    return `# redis-ha: scrape ${input.deployment}'s exporters; merge into prometheus.yml's scrape_configs.\n` + stringify(document, { lineWidth: 0 });
}

export interface AlertRule {
    alert: string;
    expr: string;
    for?: string;
    labels: Record<string, string>;
    annotations: { summary: string; description: string; runbook_url: string };
}

/** The rules, as data (the order is the runbook's). */
export function alertRules(input: MonitoringInput): AlertRule[] {
    const t = input.timing ?? DEFAULT_ALERT_TIMING;
    const d = input.deployment;
    const sel = (extra = "") => `{${DEPLOYMENT_LABEL}=${JSON.stringify(d)}${extra ? `, ${extra}` : ""}}`;
    const redis = sel('service="redis"');
    // The labels of one scrape target (what Prometheus adds, and the ones scrapeTargets sets).
    const perTarget = `${DEPLOYMENT_LABEL}, job, instance, host, zone, service`;
    const master = sel(`master_name=${JSON.stringify(input.masterName)}`);
    const rule = (alert: string, severity: "critical" | "warning", expr: string, forDuration: string | undefined, summary: string, description: string): AlertRule => ({
        alert,
        expr,
        ...(forDuration ? { for: forDuration } : {}),
        labels: { severity, [DEPLOYMENT_LABEL]: d },
        annotations: { summary, description, runbook_url: `${input.runbook ?? DEFAULT_RUNBOOK}#${alert.toLowerCase()}` },
    });
    return [
        rule("RedisHaNoMaster", "critical",
            `count by (${DEPLOYMENT_LABEL}) (up${redis}) unless on (${DEPLOYMENT_LABEL}) count by (${DEPLOYMENT_LABEL}) (redis_instance_info${sel('service="redis", role="master"')})`,
            t.urgent, `${d}: no Redis node is master`,
            `No Redis node of ${d} has reported role master for ${t.urgent}: every write fails. A failover takes seconds; this one did not happen or did not finish.`),
        rule("RedisHaSeveralMasters", "critical",
            `count by (${DEPLOYMENT_LABEL}) (redis_instance_info${sel('service="redis", role="master"')}) > 1`,
            t.sustained, `${d}: {{ $value }} Redis nodes say they are master`,
            `{{ $value }} Redis nodes of ${d} report role master: writes to the one the Sentinels do not name will be lost when it is converted.`),
        rule("RedisHaSentinelsDisagree", "critical",
            `count by (${DEPLOYMENT_LABEL}) (count by (${DEPLOYMENT_LABEL}, master_address) (redis_sentinel_master_status${master})) > 1`,
            t.sustained, `${d}: the Sentinels name {{ $value }} different masters`,
            `The Sentinels of ${d} do not agree on the master of ${input.masterName}: clients asking different Sentinels write to different nodes.`),
        rule("RedisHaFailover", "warning",
            `max by (${DEPLOYMENT_LABEL}, master_address) (redis_sentinel_master_status${master}) and on (${DEPLOYMENT_LABEL}) (count by (${DEPLOYMENT_LABEL}) (count by (${DEPLOYMENT_LABEL}, master_address) (max_over_time(redis_sentinel_master_status${master}[${t.failoverWindow}]))) > 1)`,
            undefined, `${d}: a failover happened; the master is now {{ $labels.master_address }}`,
            `The Sentinels of ${d} named more than one master for ${input.masterName} within ${t.failoverWindow}; they name {{ $labels.master_address }} now. Find out why the old master was lost.`),
        rule("RedisHaQuorumAtRisk", "critical",
            // One alert per Sentinel whichever of the two it fails: the exporter labels them differently.
            `max by (${perTarget}, master_name) (redis_sentinel_master_ckquorum_status${master}) == 0 or max by (${perTarget}, master_name) (redis_sentinel_master_ok_sentinels${master}) < ${input.quorum}`,
            t.sustained, `${d}: Sentinel {{ $labels.host }} cannot reach a quorum`,
            `Sentinel {{ $labels.host }} of ${d} sees fewer healthy Sentinels than the quorum (${input.quorum}) or fails SENTINEL CKQUORUM: a failover could not be authorised if the master failed now.`),
        rule("RedisHaRedisDown", "critical",
            `redis_up${redis} == 0`,
            t.sustained, `${d}: Redis on {{ $labels.host }} does not answer`,
            `The exporter on {{ $labels.host }} (${d}, zone {{ $labels.zone }}) cannot reach its Redis.`),
        rule("RedisHaSentinelDown", "warning",
            `redis_up${sel('service="sentinel"')} == 0`,
            t.sustained, `${d}: Sentinel on {{ $labels.host }} does not answer`,
            `The exporter on {{ $labels.host }} (${d}, zone {{ $labels.zone }}) cannot reach its Sentinel.`),
        rule("RedisHaExporterDown", "warning",
            `up${sel()} == 0`,
            t.sustained, `${d}: Prometheus cannot scrape {{ $labels.host }} ({{ $labels.service }})`,
            `{{ $labels.instance }} (${d}, {{ $labels.service }} on {{ $labels.host }}) does not answer scrapes: the host is down, its exporter stopped, or the firewall does not admit this Prometheus (monitoringCidrs).`),
        rule("RedisHaReplicaLinkDown", "critical",
            `redis_master_link_up${redis} == 0`,
            t.sustained, `${d}: replica {{ $labels.host }} has lost its master`,
            `Replica {{ $labels.host }} of ${d} has no link to {{ $labels.master_host }}:{{ $labels.master_port }}: it serves stale data and is no failover candidate.`),
        rule("RedisHaReplicasMissing", "warning",
            `redis_connected_slaves${redis} < ${input.replicaCount} and on (instance) redis_instance_info${sel('service="redis", role="master"')}`,
            t.sustained, `${d}: the master {{ $labels.host }} has {{ $value }} of ${input.replicaCount} replicas`,
            `The master {{ $labels.host }} of ${d} has {{ $value }} connected replicas, ${input.replicaCount} planned: fewer nodes hold each write.`),
        rule("RedisHaReplicationLagSeconds", "warning",
            `redis_connected_slave_lag_seconds${redis} > ${input.maxLagSeconds}`,
            t.sustained, `${d}: replica {{ $labels.slave_ip }} lags {{ $value }} s behind {{ $labels.host }}`,
            `Replica {{ $labels.slave_ip }} of ${d} has not acknowledged for more than minReplicasMaxLag (${input.maxLagSeconds} s): it does not count for minReplicasToWrite.`),
        rule("RedisHaReplicationLagBytes", "warning",
            `(redis_master_repl_offset${redis} - on (instance) group_right redis_connected_slave_offset_bytes${redis}) > ${REPLICATION_BACKLOG_BYTES}`,
            t.sustained, `${d}: replica {{ $labels.slave_ip }} is {{ $value | humanize1024 }}B behind {{ $labels.host }}`,
            `Replica {{ $labels.slave_ip }} of ${d} is further behind its master than the replication backlog (1 MiB): if its link dropped now it would need a full resync.`),
        rule("RedisHaSentinelTilt", "warning",
            `redis_sentinel_tilt${sel()} == 1`,
            undefined, `${d}: Sentinel {{ $labels.host }} is in TILT mode`,
            `Sentinel {{ $labels.host }} of ${d} saw its clock jump or was starved of CPU, and stops acting for 30 s: it will not vote in a failover.`),
        rule("RedisHaMemoryNearLimit", "warning",
            `redis_memory_used_bytes${redis} / (redis_memory_max_bytes${redis} > 0) > 0.9`,
            t.sustained, `${d}: {{ $labels.host }} uses {{ $value | humanizePercentage }} of maxmemory`,
            `Redis on {{ $labels.host }} (${d}) is above 90% of maxmemory: with noeviction writes will soon fail with OOM; with an LRU policy keys are being evicted.`),
        rule("RedisHaRejectedConnections", "warning",
            `increase(redis_rejected_connections_total${sel()}[${t.rateWindow}]) > 0`,
            undefined, `${d}: {{ $labels.host }} refused connections (maxclients)`,
            `{{ $labels.service }} on {{ $labels.host }} (${d}) refused {{ $value }} connections in ${t.rateWindow}: it reached maxclients.`),
        rule("RedisHaErrorReplies", "warning",
            `sum by (${perTarget}) (rate(redis_errors_total${sel('err!~"NOAUTH|WRONGPASS"')}[${t.rateWindow}])) > 1`,
            t.sustained, `${d}: {{ $labels.host }} answers {{ $value | humanize }} errors a second`,
            `{{ $labels.service }} on {{ $labels.host }} (${d}) sends more than one error reply a second (NOREPLICAS, READONLY, OOM, ...), authentication errors apart: clients are failing.`),
        rule("RedisHaAuthFailures", "warning",
            `sum by (${perTarget}) (rate(redis_errors_total${sel('err=~"NOAUTH|WRONGPASS"')}[${t.rateWindow}])) > 0.2`,
            t.sustained, `${d}: {{ $labels.host }} refuses {{ $value | humanize }} logins a second`,
            `{{ $labels.service }} on {{ $labels.host }} (${d}) keeps refusing passwords: a client with an old password (after a rotation), or someone guessing.`),
        rule("RedisHaPersistenceFailing", "critical",
            `redis_rdb_last_bgsave_status${redis} == 0 or redis_aof_last_write_status${redis} == 0 or redis_aof_last_bgrewrite_status${redis} == 0`,
            t.sustained, `${d}: {{ $labels.host }} failed to write its snapshot or AOF`,
            `Redis on {{ $labels.host }} (${d}) failed its last RDB save, AOF write or AOF rewrite (disk full or failing?): a master then refuses writes, a replica cannot persist.`),
    ];
}

/** Redis's default repl-backlog-size, which redis.conf keeps. */
export const REPLICATION_BACKLOG_BYTES = 1048576;

/** The rules file for Prometheus's `rule_files`. */
export function renderAlertRules(input: MonitoringInput): string {
    const document = { groups: [{ name: `redis-ha-${input.deployment}`, rules: alertRules(input) }] };
    return `# redis-ha alert rules for ${input.deployment}; what each means and what to do: docs/monitoring.md.\n` + stringify(document, { lineWidth: 0 });
}

/** An Alertmanager route for the deployment's alerts: critical ones page, the rest go to a ticket queue. */
export function renderAlertmanagerRoute(input: Pick<MonitoringInput, "deployment">): string {
    const d = input.deployment;
    const document = {
        route: {
            routes: [{
                matchers: [`${DEPLOYMENT_LABEL}="${d}"`],
                group_by: [DEPLOYMENT_LABEL, "alertname"],
                group_wait: "10s",
                repeat_interval: "4h",
                receiver: `redis-ha-${d}-tickets`,
                routes: [{ matchers: ['severity="critical"'], receiver: `redis-ha-${d}-pager` }],
            }],
        },
        receivers: [
            { name: `redis-ha-${d}-pager`, webhook_configs: [{ url: "https://pager.example.com/replace-me" }] },
            { name: `redis-ha-${d}-tickets`, webhook_configs: [{ url: "https://tickets.example.com/replace-me" }] },
        ],
    };
    return `# redis-ha: an Alertmanager route for ${d}; merge into alertmanager.yml and replace the receivers.\n` + stringify(document, { lineWidth: 0 });
}

/** What a stack outputs for monitoring (no secret in any of it). */
export interface MonitoringOutputs {
    targets: ScrapeTarget[];
    prometheusScrapeConfig: string;
    alertRules: string;
    alertmanagerRoute: string;
    /** A Grafana dashboard (JSON) for the deployment. */
    grafanaDashboard: string;
}

export function renderMonitoring(input: MonitoringInput): MonitoringOutputs {
    return {
        targets: scrapeTargets(input),
        prometheusScrapeConfig: renderScrapeConfig(input),
        alertRules: renderAlertRules(input),
        alertmanagerRoute: renderAlertmanagerRoute(input),
        grafanaDashboard: renderDashboard(input),
    };
}
