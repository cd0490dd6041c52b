"""Who acts on the ledger: an MSP id, an X.509 certificate and a way to sign digests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from fedledger.errors import LedgerError
from fedledger.ledger.profile import NetworkProfile
from fedledger.ledger.signing import load_private_key, signer_for

__all__ = ["Identity", "identity_from_profile", "load_identity"]


@dataclass(frozen=True)
class Identity:
    """A Fabric client identity.

    ``signer`` takes a SHA-256 digest and returns a DER ECDSA signature (low-S); it is ``None`` for
    identities that only need to be named, such as in-memory test identities. Keys never travel
    with the transport: the Gateway client asks the signer for signatures.
    """

    msp_id: str
    certificate_pem: bytes
    signer: Callable[[bytes], bytes] | None = field(default=None, compare=False, repr=False)

    def sign(self, digest: bytes) -> bytes:
        """Return the signer's signature of ``digest``; raises LedgerError without a signer."""
        if self.signer is None:
            raise LedgerError(f"identity of {self.msp_id} has no signer: it cannot sign")
        return self.signer(digest)


def load_identity(msp_dir: str | Path, msp_id: str) -> Identity:
    """Load a cryptogen MSP folder: ``signcerts/*.pem`` and the PKCS#8 key in ``keystore/``.

    Returns an Identity whose signer holds the private key. Raises LedgerError naming the folder
    or file that is missing, ambiguous or unreadable, or when the key does not match the
    certificate.
    """
    msp = Path(msp_dir)
    if not msp.is_dir():
        raise LedgerError(f"MSP folder not found: {msp}")
    cert_path = _single_file(msp / "signcerts", "*.pem", "signing certificate")
    key_path = _single_file(msp / "keystore", "*", "private key")
    certificate_pem = _read(cert_path)
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem)
    except ValueError as exc:
        raise LedgerError(f"cannot read certificate {cert_path}: {exc}") from exc
    private_key = load_private_key(_read(key_path), source=f"private key {key_path}")
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or (
        public_key.public_numbers() != private_key.public_key().public_numbers()
    ):
        raise LedgerError(f"private key {key_path} does not match certificate {cert_path}")
    return Identity(msp_id=msp_id, certificate_pem=certificate_pem, signer=signer_for(private_key))


def identity_from_profile(
    profile: NetworkProfile, org: str = "Org1", user: str = "User1"
) -> Identity:
    """Load ``user`` of ``org`` (e.g. Org1 / User1) from the MSP folder the profile names.

    Returns the Identity with the org's MSP id. Raises LedgerError naming the unknown org or user,
    or the missing file.
    """
    org_profile = profile.org(org)
    return load_identity(org_profile.user_msp_dir(user), org_profile.msp_id)


def _single_file(folder: Path, pattern: str, what: str) -> Path:
    if not folder.is_dir():
        raise LedgerError(f"{what} folder not found: {folder}")
    files = sorted(path for path in folder.glob(pattern) if path.is_file())
    if not files:
        raise LedgerError(f"no {what} file ({pattern}) in {folder}")
    if len(files) > 1:
        names = ", ".join(path.name for path in files)
        raise LedgerError(f"more than one {what} file in {folder}: {names}")
    return files[0]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise LedgerError(f"cannot read {path}: {exc}") from exc


def self_signed_identity(msp_id: str, common_name: str) -> Identity:
    """A throwaway P-256 identity with a self-signed certificate and a signer.

    For the in-memory ledger, benchmarks and tests: no Fabric MSP will accept it, and nothing
    about it is secret beyond the process that made it.
    """
    import datetime

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, msp_id),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    return Identity(msp_id=msp_id, certificate_pem=pem, signer=signer_for(key))
