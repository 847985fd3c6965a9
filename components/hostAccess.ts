import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformHost } from "./platforms/platform";
import { defaultOf } from "./core/settingsSchema";

/** How the components' remote commands (checks, settings rollout, handoffs) reach the hosts over SSH. */
export interface HostAccessArgs {
    /** Login user of the image (debian on OVH, root on DigitalOcean). Required. */
    user: string;
    /** Which address to SSH to: "public", or "private" when pulumi runs inside the network. Default "public". */
    via?: "public" | "private";
    /** Private key for SSH. Default: the key the platform authorised on every host (the lab has one), else the ssh-agent at SSH_AUTH_SOCK. */
    privateKey?: pulumi.Input<string>;
    /** How long a command may wait for a host to boot and the cluster to settle (first boot installs packages). Default 600. */
    timeoutSeconds?: number;
}

/** Seconds one SSH dial may take; a VM's sshd comes up a minute or more after creation. */
const PER_DIAL_TIMEOUT = 15;

/** The remote.Command connection to one host: keeps dialing for the whole budget. */
export function connectionTo(host: PlatformHost, access: HostAccessArgs, platformKey: pulumi.Output<string> | undefined): command.types.input.remote.ConnectionArgs {
    const privateKey = access.privateKey ? pulumi.secret(access.privateKey) : platformKey;
    const timeoutSeconds = access.timeoutSeconds ?? defaultOf("checkTimeoutSeconds");
    return {
        host: access.via === "private" ? host.privateAddress : host.publicAddress,
        user: access.user,
        privateKey,
        agentSocketPath: privateKey ? undefined : process.env.SSH_AUTH_SOCK,
        perDialTimeout: PER_DIAL_TIMEOUT,
        dialErrorLimit: Math.ceil(timeoutSeconds / PER_DIAL_TIMEOUT),
    };
}

/** The shell that runs a script from stdin as root, with `args` as its positional parameters. */
export function rootShell(access: HostAccessArgs, args = ""): string {
    const shell = access.user === "root" ? "bash -s" : "sudo -n bash -s";
    return args ? `${shell} ${args}` : shell;
}

/** Engine timeouts for a command that waits up to the access budget. */
export function commandTimeouts(access: HostAccessArgs): pulumi.CustomTimeouts {
    const seconds = (access.timeoutSeconds ?? defaultOf("checkTimeoutSeconds")) + 300;
    return { create: `${seconds}s`, update: `${seconds}s`, delete: `${seconds}s` };
}
