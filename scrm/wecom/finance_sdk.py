"""WeCom's chat-archive SDK (会话内容存档, `libWeWorkFinanceSdk_C.so`) behind a small Python interface.

WeCom offers chat content only through this C library: `GetChatData` returns encrypted records after a
sequence number, and `DecryptData` opens one record with the random key that our RSA private key
decrypts. `settings.WECOM_CHAT_ARCHIVE_SDK` names the class to use; the simulator ships its own.
"""

import ctypes
import json
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class FinanceSdkError(Exception):
    pass


class FinanceSdk(Protocol):
    def get_chat_data(self, *, seq: int, limit: int, timeout: int = 10) -> list[dict]:
        """Records after `seq`: dicts with seq, msgid, publickey_ver, encrypt_random_key, encrypt_chat_msg."""

    def decrypt_data(self, *, random_key: str, encrypt_chat_msg: str) -> str:
        """The record's JSON text."""


class NativeFinanceSdk:
    """ctypes over WeCom's C SDK (v1.2, Linux); the library's path is WECOM_CHAT_ARCHIVE_SDK_LIB."""

    def __init__(self) -> None:
        lib = ctypes.CDLL(settings.WECOM_CHAT_ARCHIVE_SDK_LIB)
        lib.NewSdk.restype = ctypes.c_void_p
        lib.NewSlice.restype = ctypes.c_void_p
        lib.GetContentFromSlice.restype = ctypes.c_char_p
        lib.GetContentFromSlice.argtypes = [ctypes.c_void_p]
        lib.FreeSlice.argtypes = [ctypes.c_void_p]
        lib.Init.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
        lib.GetChatData.argtypes = [
            ctypes.c_void_p,
            ctypes.c_ulonglong,
            ctypes.c_uint,
            ctypes.c_char_p,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_void_p,
        ]
        lib.DecryptData.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
        self.lib = lib
        self.sdk = lib.NewSdk()
        secret = settings.WECOM_CHAT_ARCHIVE_SECRET.encode()
        code = lib.Init(self.sdk, settings.WECOM_CORP_ID.encode(), secret)
        if code != 0:
            raise FinanceSdkError(f"Init failed: {code}")

    def _slice_call(self, call) -> str:
        out = self.lib.NewSlice()
        try:
            code = call(out)
            if code != 0:
                raise FinanceSdkError(f"finance sdk error {code}")
            return (self.lib.GetContentFromSlice(out) or b"").decode()
        finally:
            self.lib.FreeSlice(out)

    def get_chat_data(self, *, seq: int, limit: int, timeout: int = 10) -> list[dict]:
        text = self._slice_call(lambda out: self.lib.GetChatData(self.sdk, seq, limit, b"", b"", timeout, out))
        body = json.loads(text or "{}")
        if body.get("errcode"):
            raise FinanceSdkError(f"GetChatData: {body.get('errcode')} {body.get('errmsg')}")
        return body.get("chatdata") or []

    def decrypt_data(self, *, random_key: str, encrypt_chat_msg: str) -> str:
        return self._slice_call(lambda out: self.lib.DecryptData(random_key.encode(), encrypt_chat_msg.encode(), out))


_sdk: FinanceSdk | None = None


def finance_sdk() -> FinanceSdk | None:
    """The configured SDK (one per process: WeCom's library wants NewSdk/Init once), or None when off."""
    global _sdk
    path = settings.WECOM_CHAT_ARCHIVE_SDK
    if not path:
        return None
    if _sdk is None or type(_sdk).__module__ + "." + type(_sdk).__qualname__ != path:
        _sdk = import_string(path)()
    return _sdk
