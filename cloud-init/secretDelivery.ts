/**
 * Secrets kept out of the user-data (docs/security.md, "Secrets out of the user-data"). Both clouds
 * keep a VM's user-data for its lifetime and show it through their API to anyone with the project's
 * credentials, and the VM's metadata service serves it to any process on the host. So, with
 * `secretsDelivery: ssh`, every password a host's files carry is withheld from the user-data: each
 * stands there as a token (`@REDIS_HA_SECRET_<NAME>@`), the first-boot script stops before it
 * installs anything while a token is left, and a delivery step, run by `pulumi up` over the same SSH
 * as the checks right after the host is created, sends the passwords on stdin (a secret), puts them
 * in place of the tokens, each file rewritten beside itself with its owner and mode, and runs the
 * first-boot script, which then installs and starts everything as it would have at boot.
 *
 * The files are rendered with the real passwords first and the tokens put in afterwards, so what the
 * delivery makes is, byte for byte, what the user-data would have carried (withholdSecrets checks it).
 */
import type { DeploymentSecrets } from "../components/core/model";
import { appPassword, exporterPassword, replicationPassword, sentinelClientPassword, sentinelUserPassword } from "../components/core/aclUsers";
import { shellQuote } from "./shellQuote";
import { waitForCloudInit } from "./clusterShell";
import { FIRST_BOOT_SCRIPT, INSTALLED_MARKER, STAGING_DIR } from "./cloudConfig";

/** What every withheld password's token starts with; the first-boot script waits while a file holds one. */
export const SECRET_TOKEN_PREFIX = "@REDIS_HA_SECRET_";
const tokenOf = (name: string) => `${SECRET_TOKEN_PREFIX}${name}@`;

export interface HostSecret {
    /** The token that stands for it in the user-data. */
    token: string;
    value: string;
}

/**
 * Every password a host's files can carry in the clear: the stack's two and each one derived from
 * them. (The ACL users' rules carry only SHA-256 hashes of theirs, which open nothing.)
 */
export function hostSecrets(secrets: DeploymentSecrets): HostSecret[] {
    const redis = secrets.redisPassword;
    const sentinel = secrets.sentinelPassword;
    const named: Array<[string, string]> = [
        ["REDIS", redis],
        ["APP", appPassword(redis)],
        ["SENTINEL_USER", sentinelUserPassword(redis)],
        ["REPLICATION", replicationPassword(redis)],
        ["EXPORTER", exporterPassword(redis)],
        ...(sentinel === "" ? [] : ([["SENTINEL", sentinel], ["SENTINEL_CLIENT", sentinelClientPassword(sentinel)]] as Array<[string, string]>)),
    ];
    return named.map(([name, value]) => ({ token: tokenOf(name), value }));
}

/** Puts each secret's value in place of its token. */
export function completeSecrets(content: string, secrets: readonly HostSecret[]): string {
    return secrets.reduce((text, s) => text.split(s.token).join(s.value), content);
}

/**
 * `content` with every secret's value replaced by its token, longest value first (so that a value
 * inside another is never half-replaced). Throws if the result does not turn back into `content`
 * exactly, or a value is left: a password that the rendering changed (quoted, escaped) or that
 * overlaps a token would otherwise reach the host wrong, or reach the user-data.
 */
export function withholdSecrets(content: string, secrets: readonly HostSecret[], what: string): string {
    const longestFirst = [...secrets].sort((a, b) => b.value.length - a.value.length);
    if (content.includes(SECRET_TOKEN_PREFIX)) throw new Error(`${what}: already holds ${SECRET_TOKEN_PREFIX}..., which the delivery would replace`);
    const withheld = longestFirst.reduce((text, s) => text.split(s.value).join(s.token), content);
    if (completeSecrets(withheld, secrets) !== content) throw new Error(`${what}: withholding its passwords does not round-trip; refusing to render a user-data the delivery cannot complete`);
    const left = secrets.filter((s) => withheld.includes(s.value));
    if (left.length > 0) throw new Error(`${what}: ${left.length} password(s) still in it after withholding`);
    return withheld;
}

export interface SecretDeliveryInput {
    hostName: string;
    secrets: readonly HostSecret[];
    /** The files that hold tokens, where first boot leaves them (the staged configs, the credentials). */
    files: readonly string[];
    /** What installs and starts everything once the files are complete. Default FIRST_BOOT_SCRIPT (tests point it elsewhere). */
    firstBoot?: string;
    /** Marks a host whose first boot already ran: nothing to deliver. Default INSTALLED_MARKER. */
    installedMarker?: string;
    /** Where first boot finds the staged files; gone once it ran (a host made before the marker, or the lab's). Default STAGING_DIR. */
    stagingDir?: string;
    /** Wait for cloud-init before looking (VMs: yes; the lab: no). */
    waitForCloudInit: boolean;
    /** Bound on the wait for cloud-init, in seconds. */
    timeoutSeconds: number;
}

/**
 * The delivery step, run as root with this script on stdin (a secret: it carries the passwords, and
 * never prints them). Prints SAME when first boot already ran (a host made before this step, or a
 * rerun), else COMPLETED per file and DELIVERED, with the first-boot script's own lines between;
 * FAIL and a non-zero exit when a file is missing or a token is left that it has no password for.
 */
export function renderSecretDeliveryScript(input: SecretDeliveryInput): string {
    const q = shellQuote;
    const { firstBoot = FIRST_BOOT_SCRIPT, installedMarker = INSTALLED_MARKER, stagingDir = STAGING_DIR } = input;
    return `#!/bin/bash
# Delivers ${input.hostName}'s passwords, withheld from its user-data (cloud-init/secretDelivery.ts).
set -euo pipefail
umask 077
fail() { echo "FAIL $*"; echo "redis-ha secret delivery failed on ${input.hostName}: $*" >&2; exit 1; }
${waitForCloudInit(input.waitForCloudInit, String(input.timeoutSeconds), 'fail "$unfinished"')}
if [ -e ${q(installedMarker)} ] || [ ! -d ${q(stagingDir)} ]; then
    echo "SAME ${input.hostName} installed $(cat ${q(installedMarker)} 2>/dev/null || echo "before, its staged files gone"): its files hold their passwords"
    echo "RESULT ok"
    exit 0
fi
declare -A secret=(
${input.secrets.map((s) => `    [${q(s.token)}]=${q(s.value)}`).join("\n")}
)
files=(${input.files.map(q).join(" ")})
for f in "\${files[@]}"; do
    [ -f "$f" ] || fail "$f is missing: the user-data did not stage it (first boot not run, or a host made otherwise)"
    # $(...) drops trailing newlines; the x keeps them.
    content=$(cat "$f"; printf x)
    content=\${content%x}
    for token in "\${!secret[@]}"; do content=\${content//"$token"/"\${secret[$token]}"}; done
    case "$content" in *${SECRET_TOKEN_PREFIX}*) fail "$f holds a token this delivery has no password for" ;; esac
    tmp=$(mktemp "$(dirname "$f")/.redis-ha-secrets.XXXXXX")
    printf '%s' "$content" > "$tmp"
    chown --reference="$f" "$tmp"
    chmod --reference="$f" "$tmp"
    mv -f "$tmp" "$f"
    echo "COMPLETED $f"
done
${q(firstBoot)}
echo "DELIVERED ${input.hostName}"
echo "RESULT ok"
`;
}

/**
 * The first-boot script's guard, first thing after its installed check: with a token left in any
 * file it would install, it stops, installing and starting nothing (the delivery runs it again).
 */
export function awaitSecretsStep(hostName: string, files: readonly string[]): string {
    return `if grep -qsF -- ${shellQuote(SECRET_TOKEN_PREFIX)} ${files.map(shellQuote).join(" ")}; then echo "redis-ha: ${hostName} waits for its passwords (delivered over SSH by pulumi up; nothing installed yet)"; exit 0; fi`;
}
