/**
 * The redis-ha stack: read and validate the stack config, then build the firewall, the replica
 * set and the Sentinel quorum, and export what clients and operators need.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildDeployment } from "./components/deployment";
import { platformFor } from "./stack/platform";
import { stackSettingsFromConfig } from "./stack/config";

const { settings, warnings } = stackSettingsFromConfig();
for (const warning of warnings) pulumi.log.warn(warning);

const name = `${pulumi.getProject()}-${pulumi.getStack()}`;
const platform = platformFor(settings, pulumi.getStack());
const deployment = buildDeployment(name, settings, platform, {
    redisPassword: settings.redisPassword!,
    sentinelPassword: settings.sentinelPassword,
    previousRedisPassword: settings.previousRedisPassword,
    previousSentinelPassword: settings.previousSentinelPassword,
    sshPrivateKey: settings.sshPrivateKey,
});

export const masterName = settings.masterName;
export const sentinelEndpoints = deployment.sentinelEndpoints;
export const nodes = deployment.quorum.nodes;
export const planWarnings = warnings;
export const clients = deployment.clients;
export const ioredisOptions = deployment.ioredisOptions;
/** The environment the client snippets read their passwords from; a secret. */
export const clientEnvironment = deployment.clientEnvironment;
export const health = deployment.health;
/** Scrape targets, a prometheus.yml fragment, alert rules and an Alertmanager route for this deployment (docs/monitoring.md). */
export const monitoring = deployment.monitoring;
/** The lab stack's own Prometheus, watching this deployment with those rules (lab stacks only; docs/monitoring.md). */
export const labPrometheusUrl = deployment.prometheusUrl;
