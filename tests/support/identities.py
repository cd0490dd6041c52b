"""Self-signed P-256 keys, certificates, MSP folders and ledger identities for tests only."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fedledger.ledger.identity import Identity


def new_key(curve: ec.EllipticCurve | None = None) -> ec.EllipticCurvePrivateKey:
    """Return a fresh private key on ``curve`` (P-256, the curve Fabric signs with, by default)."""
    return ec.generate_private_key(curve or ec.SECP256R1())


def private_key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """Return ``key`` as unencrypted PKCS#8 PEM, the form cryptogen writes to a keystore."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def self_signed_pem(
    key: ec.EllipticCurvePrivateKey,
    common_name: str,
    *,
    organization: str | None = None,
    ca: bool = False,
    dns_names: Sequence[str] = (),
) -> bytes:
    """Return a PEM certificate for ``common_name`` signed by ``key`` itself.

    It is valid from a minute ago (clock skew) for a year, so TLS handshakes accept it;
    ``ca`` marks it as a CA (a TLS trust root) and ``dns_names`` become its alternative names.
    """
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization is not None:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attributes)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=365))
    )
    if ca:
        constraints = x509.BasicConstraints(ca=True, path_length=None)
        builder = builder.add_extension(constraints, critical=True)
    if dns_names:
        alternative = x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names])
        builder = builder.add_extension(alternative, critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def make_identity(msp_id: str, common_name: str | None = None) -> Identity:
    """Return an identity of ``msp_id`` with a fresh self-signed certificate and no signer.

    The common name defaults to ``user@<msp_id>``; each call has a new key, so a new party id.
    """
    name = common_name or f"user@{msp_id}"
    certificate = self_signed_pem(new_key(), name, organization=msp_id)
    return Identity(msp_id=msp_id, certificate_pem=certificate)


def write_msp(
    msp: Path, key: ec.EllipticCurvePrivateKey, common_name: str, cert_file: str = "cert.pem"
) -> Path:
    """Write ``msp`` as cryptogen lays it out (signcerts/, keystore/priv_sk) and return it."""
    (msp / "signcerts").mkdir(parents=True)
    (msp / "keystore").mkdir()
    (msp / "signcerts" / cert_file).write_bytes(self_signed_pem(key, common_name))
    (msp / "keystore" / "priv_sk").write_bytes(private_key_pem(key))
    return msp
