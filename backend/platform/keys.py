"""Private keys (and other secrets: e-mails waiting to be sent) at rest: AES-256-GCM under the key-encryption key from
the environment.

The associated data binds each ciphertext to its address, so a ciphertext copied onto another row does not decrypt.
Keys are decrypted only to sign, never logged, never returned by the API (except by an explicit export, which
Kyoso does through the contracts' migration instead of revealing the key).
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from eth_account.signers.local import LocalAccount

NONCE_BYTES = 12


class KeyVaultError(RuntimeError):
    pass


@dataclass(frozen=True)
class SealedKey:
    address: str
    ciphertext: bytes  # nonce || AES-GCM(ciphertext + tag)


class KeyVault:
    def __init__(self, key_encryption_key_b64: str):
        try:
            kek = base64.b64decode(key_encryption_key_b64, validate=True)
        except ValueError as exc:
            raise KeyVaultError("KYOSO_KEY_ENCRYPTION_KEY is not valid base64") from exc
        if len(kek) not in (16, 24, 32):
            raise KeyVaultError("KYOSO_KEY_ENCRYPTION_KEY must decode to 16, 24 or 32 bytes")
        self._aead = AESGCM(kek)

    def create(self) -> SealedKey:
        account = Account.create()
        return self.seal(account)

    def seal(self, account: LocalAccount) -> SealedKey:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, bytes(account.key), account.address.encode())
        return SealedKey(address=account.address, ciphertext=nonce + ciphertext)

    def open(self, sealed: SealedKey) -> LocalAccount:
        nonce, ciphertext = sealed.ciphertext[:NONCE_BYTES], sealed.ciphertext[NONCE_BYTES:]
        key = self._aead.decrypt(nonce, ciphertext, sealed.address.encode())
        account = Account.from_key(key)
        if account.address != sealed.address:
            raise KeyVaultError("decrypted key does not match its address")
        return account

    def seal_data(self, data: bytes, context: bytes) -> bytes:
        """Any secret at rest (an e-mail holding a single-use link), bound to `context` (e.g. its recipient) as the
        keys are bound to their address: nonce || AES-GCM(data + tag)."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, context)

    def open_data(self, sealed: bytes, context: bytes) -> bytes:
        return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
