# Profile peer-observer: the glue between peer-observer's infra-library (which defines the node:
# see ../infra.nix and flake.nix) and nixnode-install's own modules (hosts/<host>/nixnode.nix and
# lockdown.nix, which apply host.json).
#
# infra-library's base.nix sets a few options at normal priority that nixnode.nix also sets at
# normal priority, from host.json: two equal-priority definitions with different values are an
# evaluation error. host.json is the tool's source of truth (the install logs in as root with keys
# until the lockdown has confirmed the admin user), so here those options take host.json's value at
# priority 90: stronger than both normal definitions (100), weaker than lockdown.nix's lib.mkForce
# (50), which therefore still has the last word. A plain definition of your own in
# hosts/<host>/default.nix loses to these too: change host.json, or use lib.mkForce.
{ lib, nixnodeHost, ... }:
let
  hostPriority = lib.mkOverride 90;
in
{
  services.openssh.settings = {
    # infra-library: "no" and false; host.json: what the current lockdown stage allows
    PermitRootLogin = hostPriority nixnodeHost.ssh.permitRootLogin;
    PasswordAuthentication = hostPriority nixnodeHost.ssh.passwordAuthentication;
  };
  # infra-library: "UTC"; host.json: the planned time zone
  time.timeZone = hostPriority nixnodeHost.timezone;
}
