/**
 * The manifests `karapace new --template <name>` writes. examples/<name>.toml
 * holds the same bytes (tests/schema/templates.test.ts checks it); they live
 * here as well so the compiled binary and the npm package, which ship no
 * examples/ directory, carry them. The first five are the reference's
 * templates with the same values, so they normalize to the same canonical
 * JSON there and here; debian-dev is ours (Debian is what our CI can install).
 */

export interface Template {
  name: string;
  description: string;
  /** The karapace.toml text, comments included. */
  manifest: string;
}

export const TEMPLATES: readonly Template[] = [
  {
    name: "minimal",
    description: "A bare base system, nothing else",
    manifest: `# minimal: a bare base system and nothing else.
# A starting point to copy, or the smallest environment for a quick test.
#
#   karapace build examples/minimal.toml
#   karapace enter <env_id>

manifest_version = 1

[base]
image = "rolling"    # openSUSE Tumbleweed

[runtime]
backend = "namespace"
`,
  },
  {
    name: "dev",
    description: "Command-line development tools (git, compilers, editors)",
    manifest: `# dev: command-line tools for everyday software work (no GUI).
# Compilers, build tools, editors and a terminal multiplexer; ~/projects is
# mounted at /workspace.
#
#   karapace build examples/dev.toml
#   karapace enter <env_id>

manifest_version = 1

[base]
image = "rolling"    # openSUSE Tumbleweed

[system]
packages = ["git", "curl", "vim", "neovim", "tmux", "htop", "make", "cmake", "gcc", "clang"]

[mounts]
workspace = "~/projects:/workspace"

[runtime]
backend = "namespace"
`,
  },
  {
    name: "gui-dev",
    description: "Desktop app development with GPU and audio passthrough",
    manifest: `# gui-dev: building desktop applications, with the GPU and audio passed
# through from the host and a browser to test in.
#
#   karapace build examples/gui-dev.toml
#   karapace enter <env_id>

manifest_version = 1

[base]
image = "rolling"    # openSUSE Tumbleweed

[system]
packages = ["git", "curl", "cmake", "gcc", "clang", "gdb", "mesa-dri-devel"]

[gui]
apps = ["firefox"]

[hardware]
gpu = true
audio = true

[mounts]
workspace = "~/projects:/workspace"

[runtime]
backend = "namespace"
`,
  },
  {
    name: "rust-dev",
    description: "Native toolchain for Rust crates (install Rust with rustup inside)",
    manifest: `# rust-dev: the native toolchain Rust crates expect (C compiler, pkg-config,
# OpenSSL headers, a debugger). Install Rust itself with rustup inside:
#   curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh
#
#   karapace build examples/rust-dev.toml
#   karapace enter <env_id>

manifest_version = 1

[base]
image = "rolling"    # openSUSE Tumbleweed

[system]
packages = ["git", "curl", "gcc", "make", "cmake", "pkg-config", "openssl-devel", "gdb"]

[mounts]
workspace = "~/projects:/workspace"

[runtime]
backend = "namespace"
`,
  },
  {
    name: "ubuntu-dev",
    description: "Ubuntu 24.04 development toolchain",
    manifest: `# ubuntu-dev: an Ubuntu 24.04 toolchain, for projects that build or ship on Ubuntu.
#
#   karapace build examples/ubuntu-dev.toml
#   karapace enter <env_id>

manifest_version = 1

[base]
image = "ubuntu/24.04"    # Ubuntu Noble Numbat

[system]
packages = ["git", "curl", "build-essential", "cmake", "python3", "python3-pip", "nodejs", "npm"]

[mounts]
workspace = "~/projects:/workspace"

[runtime]
backend = "namespace"
`,
  },
  {
    name: "debian-dev",
    description: "Debian 12 (bookworm) with a C/C++ toolchain",
    manifest: `# debian-dev: Debian 12 with a C/C++ toolchain and the usual command-line
# tools; the current directory is mounted at /workspace.
#
#   karapace build examples/debian-dev.toml
#   karapace enter <env_id>

manifest_version = 1

[base]
image = "debian/bookworm"    # Debian 12

[system]
packages = ["build-essential", "ca-certificates", "curl", "git", "less", "pkg-config", "vim"]

[mounts]
workspace = "./:/workspace"

[runtime]
backend = "namespace"
`,
  },
];

export const TEMPLATE_NAMES: readonly string[] = TEMPLATES.map((t) => t.name);

export function getTemplate(name: string): Template | undefined {
  return TEMPLATES.find((t) => t.name === name);
}
