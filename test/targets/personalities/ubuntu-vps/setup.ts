// A fresh Ubuntu 24.04 cloud VPS as the operator first meets it: root with a password, password
// login allowed (the sshd_config defaults of startTarget), Ubuntu's identity files.
import type { PersonalityContext } from "../../index";

const OS_RELEASE = `PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
`;

const LSB_RELEASE = `DISTRIB_ID=Ubuntu
DISTRIB_RELEASE=24.04
DISTRIB_CODENAME=noble
DISTRIB_DESCRIPTION="Ubuntu 24.04.1 LTS"
`;

export async function setupPersonality(t: PersonalityContext): Promise<void> {
  await Promise.all([
    t.writeFile("/etc/os-release", OS_RELEASE),
    t.writeFile("/etc/lsb-release", LSB_RELEASE),
    t.writeFile("/etc/debian_version", "trixie/sid\n"),
    t.writeFile("/etc/hostname", `${t.name}\n`),
  ]);
}
