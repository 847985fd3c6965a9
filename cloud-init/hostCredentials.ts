/**
 * The copies of the stack's passwords that live in files on a host, outside Redis and Sentinel: the
 * operator credentials the checks log in with (every host; written here too on a host made before
 * them), the boot guard's copy of the Sentinels' password (data nodes) and each exporter's password file. A
 * settings rollout changes the running processes; this script, run as root on every host once the
 * rollout made every node accept the stack's passwords, brings the files along, so neither a
 * restart's boot guard nor an exporter is left holding a password that is refused once the old one
 * is retired.
 *
 * Each file is written beside itself and renamed over it (a reader never sees half a password). An
 * exporter reads its file at start only: the one whose file changed is stopped by the PID that
 * listens on its port, and its unit's Restart=always starts it again (the lab runs the same loop).
 * The Redis exporter's login (its drop-in, EXPORTER_LOGIN_DROPIN) is written with its file, and
 * systemd reloaded before the restart, so a host made before the exporter user moves to it here.
 * A host created before it had exporters has no password file for them, and is left as it is.
 * The script carries the secrets: run it from a secret stdin.
 */
import { BOOT_GUARD_PASSWORD_FILE } from "./bootGuard";
import { OPERATOR_CREDENTIALS_FILE, OperatorCredentials, renderOperatorCredentials } from "./operatorCredentials";
import { shellQuote } from "./shellQuote";
import { REPLACE_FILE_FUNCTION } from "./clusterShell";
import { EXPORTERS, EXPORTER_LOGIN_DROPIN, EXPORTER_LOGIN_DROPIN_PATH, EXPORTER_USER, ExportedService, renderExporterPasswordFile } from "./exporters";

export interface HostCredentialsInput {
    /** The stack's passwords, for the operator credentials file; undefined leaves the file as it is. */
    operator?: OperatorCredentials;
    /** Where the operator credentials live. Default OPERATOR_CREDENTIALS_FILE (tests point it elsewhere). */
    operatorCredentialsPath?: string;
    /** Data nodes: the Sentinels' password the boot guard asks with ("" without Sentinel auth). */
    bootGuardSentinelPassword?: string;
    /** The exporters on this host, with what their targets are and the password each needs. */
    exporters: ReadonlyArray<{ service: ExportedService; bindAddress: string; port: number; password: string }>;
    /** Where the boot guard's copy lives. Default BOOT_GUARD_PASSWORD_FILE (tests point it elsewhere). */
    bootGuardPasswordFile?: string;
    /** Where each exporter's password file lives. Default EXPORTERS[service].passwordFile. */
    exporterPasswordFiles?: Partial<Record<ExportedService, string>>;
    /** Where the Redis exporter's unit and its login drop-in live. Default EXPORTERS.redis.unitPath and EXPORTER_LOGIN_DROPIN_PATH. */
    redisExporterUnit?: { unit: string; loginDropin: string };
}

export function renderHostCredentialsScript(input: HostCredentialsInput): string {
    const q = shellQuote;
    const steps: string[] = [];
    if (input.operator) {
        steps.push(`replace ${q(input.operatorCredentialsPath ?? OPERATOR_CREDENTIALS_FILE)} root 0600 ${q(renderOperatorCredentials(input.operator).trimEnd())} "operator credentials" || true`);
    }
    if (input.bootGuardSentinelPassword !== undefined) {
        steps.push(`replace ${q(input.bootGuardPasswordFile ?? BOOT_GUARD_PASSWORD_FILE)} root 0600 ${q(input.bootGuardSentinelPassword)} "boot guard password" || true`);
    }
    for (const exporter of input.exporters) {
        const file = input.exporterPasswordFiles?.[exporter.service] ?? EXPORTERS[exporter.service].passwordFile;
        const content = renderExporterPasswordFile(exporter.bindAddress, exporter.port, exporter.password).trimEnd();
        const what = `${exporter.service} exporter password`;
        const port = EXPORTERS[exporter.service].port;
        if (exporter.service === "redis") {
            // Its login (the drop-in) and its password change together, then one restart: a host made
            // before the exporter user moves to it here. Where its unit is not where redis-ha put it,
            // both are left alone, so the exporter keeps the login it has.
            const unit = input.redisExporterUnit?.unit ?? EXPORTERS.redis.unitPath;
            const dropin = input.redisExporterUnit?.loginDropin ?? EXPORTER_LOGIN_DROPIN_PATH;
            steps.push(
                `if [ ! -e ${q(file)} ]; then echo "NOEXPORTER redis: this host was created without one"`,
                `elif [ ! -e ${q(unit)} ]; then echo "NOUNIT redis exporter: no ${unit} here; it keeps the login it has"`,
                "else",
                "    moved=0",
                `    if replace ${q(dropin)} root 0644 ${q(EXPORTER_LOGIN_DROPIN.trimEnd())} "redis exporter login"; then moved=1; fi`,
                `    if replace ${q(file)} ${EXPORTER_USER} 0640 ${q(content)} ${q(what)}; then moved=1; fi`,
                `    if [ "$moved" = 1 ]; then reload_units; restart_exporter ${port} redis; fi`,
                "fi",
            );
            continue;
        }
        steps.push(
            `if [ ! -e ${q(file)} ]; then echo "NOEXPORTER ${exporter.service}: this host was created without one"`,
            `elif replace ${q(file)} ${EXPORTER_USER} 0640 ${q(content)} ${q(what)}; then restart_exporter ${port} ${exporter.service}; fi`,
        );
    }
    return `#!/bin/bash
set -eu
umask 077
${REPLACE_FILE_FUNCTION}
# restart_exporter PORT SERVICE: stops what listens on PORT in this host's network; Restart=always brings it back.
restart_exporter() {
    local pids
    pids=$(ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
    if [ -z "$pids" ]; then echo "NOTRUNNING $2 exporter: it reads the new file when it starts"; return 0; fi
    # shellcheck disable=SC2086 # one PID per word
    kill $pids
    echo "RESTARTED $2 exporter"
}
# reload_units: systemd reads a changed drop-in only after daemon-reload (none where systemd does not run).
reload_units() { if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; }
${steps.join("\n")}
`;
}
