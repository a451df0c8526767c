"""The simulator's stand-in for WeCom's chat-archive SDK (libWeWorkFinanceSdk_C): the /dev/chat/
conversation (SimChatMessage, its id as WeCom's seq) served as archive records, each record's random key
encrypted with the product's RSA public key as WeCom does (PKCS#1 v1.5). How the C SDK encrypts a record
with that key is not documented; here it is AES-256-CBC, opened by `decrypt_data` like the SDK would.

In dev the key pair lives in settings.WECOM_CHAT_ARCHIVE_KEY_FILE and is generated on first use.
"""

import base64
import json
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings

from scrm.wecom.simulator.models import SimChatMessage

PUBLICKEY_VER = 1
# sendChatMessage's msgtype → the archive's msgtype.
ARCHIVE_TYPES = {"news": "link", "miniprogram": "weapp"}


def archive_key_ensure() -> Path:
    """The dev key pair's private half (PEM), generated once; WeCom would hold only the public half."""
    path = Path(settings.WECOM_CHAT_ARCHIVE_KEY_FILE)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(pem)
        os.chmod(tmp, 0o600)
        tmp.replace(path)  # atomic: two processes generating at once leave one whole key
    return path


def _public_key():
    private = serialization.load_pem_private_key(archive_key_ensure().read_bytes(), password=None)
    return private.public_key()


def _aes(random_key: str):
    key = random_key.encode()[:32].ljust(32, b"0")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def archive_message(row: SimChatMessage) -> dict:
    """The decrypted record WeCom's SDK returns for one message (会话内容存档 message format)."""
    incoming = row.direction == SimChatMessage.Direction.IN
    msgtype = ARCHIVE_TYPES.get(row.msgtype, row.msgtype)
    body = dict(row.payload)
    if msgtype == "text":
        body = {"content": body.get("content", "")}
    return {
        "msgid": f"sim{row.pk}_{int(row.created_at.timestamp())}",
        "action": "send",
        "from": row.external_userid if incoming else row.userid,
        "tolist": [row.userid if incoming else row.external_userid],
        "roomid": "",
        "msgtime": int(row.created_at.timestamp() * 1000),
        "msgtype": msgtype,
        msgtype: body,
    }


class SimFinanceSdk:
    def get_chat_data(self, *, seq: int, limit: int, timeout: int = 10) -> list[dict]:
        public = _public_key()
        records = []
        for row in SimChatMessage.objects.filter(pk__gt=seq).order_by("pk")[: min(limit, 1000)]:
            random_key = secrets.token_hex(16)
            padder = sym_padding.PKCS7(128).padder()
            plain = padder.update(json.dumps(archive_message(row), ensure_ascii=False).encode()) + padder.finalize()
            encryptor = _aes(random_key).encryptor()
            records.append(
                {
                    "seq": row.pk,
                    "msgid": archive_message(row)["msgid"],
                    "publickey_ver": PUBLICKEY_VER,
                    "encrypt_random_key": base64.b64encode(
                        public.encrypt(random_key.encode(), padding.PKCS1v15())
                    ).decode(),
                    "encrypt_chat_msg": base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode(),
                }
            )
        return records

    def decrypt_data(self, *, random_key: str, encrypt_chat_msg: str) -> str:
        decryptor = _aes(random_key).decryptor()
        padded = decryptor.update(base64.b64decode(encrypt_chat_msg)) + decryptor.finalize()
        unpadder = sym_padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode()
