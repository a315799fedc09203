"""Envelope encryption of personal data, keyed hashes of identity, and opening sealed submissions.

Each person has a data key (AES-256-GCM) that encrypts their identity and their consultations'
summaries; the data key is stored wrapped (AES key wrap, RFC 3394) by intake's master key. Erasing a
person deletes the wrapped key, after which their ciphertexts can never be decrypted again
(crypto-shredding), wherever copies of the ciphertext may be. Every ciphertext is bound to its owner
and purpose through the associated data, so one cannot be moved to another row and still open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox

NONCE_BYTES = 12


class UndecryptableError(Exception):
    """The ciphertext cannot be opened: wrong key, tampered, or the key was erased."""


class Vault:
    """Wraps data keys with the master key, and encrypts with a data key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes (base64 of 32 random bytes)")
        self._master_key = master_key

    def new_data_key(self) -> tuple[bytes, bytes]:
        """A fresh data key and its wrapped form (the only form that is stored)."""
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, aes_key_wrap(self._master_key, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._master_key, wrapped)
        except InvalidUnwrap as error:
            raise UndecryptableError("the data key does not unwrap with this master key") from error


def encrypt(key: bytes, plaintext: bytes, context: str) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())


def decrypt(key: bytes, ciphertext: bytes, context: str) -> bytes:
    try:
        return AESGCM(key).decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], context.encode())
    except InvalidTag as error:
        raise UndecryptableError(f"ciphertext does not open for {context}") from error


def keyed_hash(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


class SubmissionOpener:
    """Opens the personal part of ingress submissions, sealed to intake's public key (libsodium sealed box)."""

    def __init__(self, private_key: bytes) -> None:
        self._box = SealedBox(PrivateKey(private_key))
        self.public_key_base64 = base64.b64encode(bytes(PrivateKey(private_key).public_key)).decode()

    def open(self, sealed_base64: str) -> bytes:
        try:
            return self._box.decrypt(base64.b64decode(sealed_base64, validate=True))
        except (CryptoError, ValueError) as error:
            raise UndecryptableError("the sealed part does not open with intake's key") from error
