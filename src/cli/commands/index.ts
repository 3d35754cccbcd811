// The heavy half of the CLI: every command and, through them, ssh2, listr2, prompts, age... The
// light shell (main.ts, registry.ts) reaches it only through load-commands.ts, so that --help and
// --version never compile it (see scripts/build.mjs).
import check from "./check";
import detect from "./detect";
import fleet from "./fleet";
import install from "./install";
import lockdown from "./lockdown";
import plan from "./plan";
import secrets from "./secrets";
import switchCommand from "./switch";
import usb from "./usb";

export const commands = { install, plan, detect, lockdown, secrets, usb, check, fleet, switch: switchCommand };
