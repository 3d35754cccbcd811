# Evaluates a generated boot.nix as a function with nixpkgs' lib and a two-function stand-in for
# pkgs (nothing is built), and returns the settings it makes (test helper). mkForce shows as
# { _type = "override"; content = ...; }.
{ bootFile, nixpkgsLib }:
let
  lib = import (nixpkgsLib + "/lib");
  pkgs = {
    writeShellScript = name: text: "/nix/store/00000000000000000000000000000000-${name} <<${text}>>";
    util-linux = "/nix/store/00000000000000000000000000000000-util-linux";
  };
in
import bootFile {
  inherit lib pkgs;
  config = { };
}
