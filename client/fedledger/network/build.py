"""Build Fabric's node binaries from the Go module pinned under ``network/``, once.

The binaries land in ``<bin_dir>`` together with a stamp holding the digest of ``go.mod`` and
``go.sum``; a later build with the same pin and all binaries present does nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from fedledger.errors import NetworkError

FABRIC_RELEASE = "v3.1.1"
FABRIC_MODULE = "github.com/hyperledger/fabric"
COMMANDS = ("peer", "orderer", "osnadmin", "configtxgen", "cryptogen")
SAMPLE_CONFIGS = ("core.yaml", "orderer.yaml")
STAMP = ".fedledger-pin"

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    return None


def pin_digest(module_dir: Path) -> str:
    """Return the SHA-256 of the pinned module's go.mod and go.sum together."""
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum"):
        path = module_dir / name
        if not path.is_file():
            raise NetworkError(f"the Fabric pin is incomplete: {path} is missing")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def binaries_current(bin_dir: Path, module_dir: Path) -> bool:
    """True when every binary exists and was built from the current pin."""
    stamp = bin_dir / STAMP
    wanted = [bin_dir / c for c in COMMANDS] + [
        sample_config_dir(bin_dir) / c for c in SAMPLE_CONFIGS
    ]
    if not stamp.is_file() or not all(p.is_file() for p in wanted):
        return False
    return stamp.read_text().strip() == pin_digest(module_dir)


def sample_config_dir(bin_dir: Path) -> Path:
    """Where the build keeps Fabric's own core.yaml and orderer.yaml for this pin."""
    return bin_dir / "sampleconfig"


def required_go(module_dir: Path) -> tuple[int, int]:
    """Return the (major, minor) Go version the pin's go.mod declares."""
    text = (module_dir / "go.mod").read_text()
    match = re.search(r"^go (\d+)\.(\d+)", text, re.MULTILINE)
    if not match:
        raise NetworkError(f"{module_dir / 'go.mod'} has no go directive")
    return int(match.group(1)), int(match.group(2))


def installed_go() -> tuple[str, tuple[int, int]]:
    """Return the path and (major, minor) version of the Go on PATH; raise NetworkError if none."""
    go = shutil.which("go")
    if go is None:
        raise NetworkError(
            "Go is not installed (no 'go' on PATH): install Go 1.26 or newer to build Fabric"
        )
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=False)
    match = re.match(r"go(\d+)\.(\d+)", out.stdout.strip())
    if out.returncode != 0 or not match:
        raise NetworkError(f"cannot tell the version of {go}: {out.stderr.strip() or out.stdout}")
    return go, (int(match.group(1)), int(match.group(2)))


def build_fabric(
    module_dir: Path, bin_dir: Path, *, force: bool = False, progress: Progress = _silent
) -> bool:
    """Build the pinned Fabric commands into ``bin_dir``.

    Returns True when it built, False when the binaries were already current. Raises
    NetworkError when Go is missing or too old, or when the build fails (with Go's output).
    """
    if not force and binaries_current(bin_dir, module_dir):
        return False
    go, have = installed_go()
    need = required_go(module_dir)
    if have < need:
        raise NetworkError(
            f"Go {have[0]}.{have[1]} is too old: the Fabric pin needs Go"
            f" {need[0]}.{need[1]} or newer"
        )
    bin_dir.mkdir(parents=True, exist_ok=True)
    version_flag = f"-X {FABRIC_MODULE}/common/metadata.Version={FABRIC_RELEASE.lstrip('v')}"
    cmd = [go, "build", "-trimpath", "-ldflags", version_flag, "-o", str(bin_dir) + os.sep]
    cmd += [f"{FABRIC_MODULE}/cmd/{c}" for c in COMMANDS]
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=readonly")
    progress(
        f"building Fabric {FABRIC_RELEASE} ({', '.join(COMMANDS)}); the first build takes minutes"
    )
    result = subprocess.run(cmd, cwd=module_dir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise NetworkError(f"building Fabric failed:\n{result.stderr.strip()[-4000:]}")
    _copy_sample_config(go, module_dir, bin_dir, env)
    (bin_dir / STAMP).write_text(pin_digest(module_dir) + "\n")
    return True


def _copy_sample_config(go: str, module_dir: Path, bin_dir: Path, env: dict[str, str]) -> None:
    """Keep the pinned release's sampleconfig beside the binaries, so `up` needs no Go."""
    result = subprocess.run(
        [go, "list", "-m", "-f", "{{.Dir}}", FABRIC_MODULE],
        cwd=module_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    source = Path(result.stdout.strip()) / "sampleconfig"
    if result.returncode != 0 or not source.is_dir():
        raise NetworkError(f"cannot find Fabric's sampleconfig: {result.stderr.strip()}")
    target = sample_config_dir(bin_dir)
    target.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_CONFIGS:
        shutil.copyfile(source / name, target / name)
