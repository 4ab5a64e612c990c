"""Fernet (AES-128-CBC + HMAC-SHA256, the spec at github.com/fernet/spec) over the C
core's AES and the stdlib's HMAC."""

import base64
import binascii
import hmac
import hashlib
import os
import time

import _pyedge_crypto


class InvalidToken(Exception):
    pass


_MAX_CLOCK_SKEW = 60


class Fernet:
    def __init__(self, key, backend=None):
        try:
            key = base64.urlsafe_b64decode(key)
        except (TypeError, binascii.Error) as err:
            raise ValueError("Fernet key must be 32 url-safe base64-encoded bytes.") from err
        if len(key) != 32:
            raise ValueError("Fernet key must be 32 url-safe base64-encoded bytes.")
        self._signing_key, self._encryption_key = key[:16], key[16:]

    @classmethod
    def generate_key(cls):
        return base64.urlsafe_b64encode(os.urandom(32))

    def encrypt(self, data):
        return self.encrypt_at_time(data, int(time.time()))

    def encrypt_at_time(self, data, current_time):
        return self._encrypt_from_parts(data, current_time, os.urandom(16))

    def _encrypt_from_parts(self, data, current_time, iv):
        data = bytes(data)
        pad = 16 - len(data) % 16
        ciphertext = _pyedge_crypto.aes_cbc(True, self._encryption_key, iv, data + bytes([pad]) * pad)
        basic = b"\x80" + current_time.to_bytes(8, "big") + iv + ciphertext
        mac = hmac.new(self._signing_key, basic, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(basic + mac)

    def decrypt(self, token, ttl=None):
        timestamp, data = self._get_unverified_token_data(token)
        return self._decrypt_data(data, timestamp, None if ttl is None else (ttl, int(time.time())))

    def decrypt_at_time(self, token, ttl, current_time):
        if ttl is None:
            raise ValueError("decrypt_at_time() can only be used with a non-None ttl")
        timestamp, data = self._get_unverified_token_data(token)
        return self._decrypt_data(data, timestamp, (ttl, current_time))

    def extract_timestamp(self, token):
        timestamp, data = self._get_unverified_token_data(token)
        self._verify_signature(data)
        return timestamp

    @staticmethod
    def _get_unverified_token_data(token):
        if not isinstance(token, (str, bytes)):
            raise TypeError("token must be bytes or str")
        try:
            data = base64.urlsafe_b64decode(token)
        except (TypeError, binascii.Error):
            raise InvalidToken from None
        if not data or data[0] != 0x80 or len(data) < 9:
            raise InvalidToken
        return int.from_bytes(data[1:9], "big"), data

    def _verify_signature(self, data):
        mac = hmac.new(self._signing_key, data[:-32], hashlib.sha256).digest()
        if len(data) < 57 or not hmac.compare_digest(mac, data[-32:]):
            raise InvalidToken

    def _decrypt_data(self, data, timestamp, time_info):
        if time_info is not None:
            ttl, current_time = time_info
            if timestamp + ttl < current_time:
                raise InvalidToken
            if current_time + _MAX_CLOCK_SKEW < timestamp:
                raise InvalidToken
        self._verify_signature(data)
        iv, ciphertext = data[9:25], data[25:-32]
        if not ciphertext or len(ciphertext) % 16:
            raise InvalidToken
        padded = _pyedge_crypto.aes_cbc(False, self._encryption_key, iv, ciphertext)
        pad = padded[-1]
        if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
            raise InvalidToken
        return padded[:-pad]


class MultiFernet:
    def __init__(self, fernets):
        fernets = list(fernets)
        if not fernets:
            raise ValueError("MultiFernet requires at least one Fernet instance")
        self._fernets = fernets

    def encrypt(self, msg):
        return self._fernets[0].encrypt(msg)

    def decrypt(self, msg, ttl=None):
        for f in self._fernets:
            try:
                return f.decrypt(msg, ttl)
            except InvalidToken:
                pass
        raise InvalidToken
