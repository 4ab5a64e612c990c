"""Small DER, PEM and OpenSSH helpers for the facade (mbedTLS parses RSA/EC keys; this
frames what it does not: PKCS#8 output, PEM output, Ed25519 keys, OpenSSH keys)."""

import base64
import binascii

# Object identifiers, DER-encoded with their tag and length.
OID_RSA = bytes.fromhex("06092a864886f70d010101")
OID_EC = bytes.fromhex("06072a8648ce3d0201")
OID_ED25519 = bytes.fromhex("06032b6570")
OID_ED448 = bytes.fromhex("06032b6571")
CURVE_OIDS = {
    "secp256r1": bytes.fromhex("06082a8648ce3d030107"),
    "secp384r1": bytes.fromhex("06052b81040022"),
    "secp521r1": bytes.fromhex("06052b81040023"),
    "secp256k1": bytes.fromhex("06052b8104000a"),
}


def tlv(tag, content):
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def seq(*items):
    return tlv(0x30, b"".join(items))


def integer(value):
    if value < 0:
        raise ValueError("negative integers are not encoded here")
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return tlv(0x02, raw)


def read_tlv(data, pos=0):
    """(tag, content, next position) of the DER element at `pos`; ValueError if bad."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        n = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        n = int.from_bytes(data[pos:pos + count], "big")
        if n < 0x80 or data[pos] == 0:
            raise ValueError("non-minimal DER length")
        pos += count
    if pos + n > len(data):
        raise ValueError("truncated DER")
    return tag, data[pos:pos + n], pos + n


def read_integer(data, pos=0):
    tag, content, pos = read_tlv(data, pos)
    if tag != 0x02 or not content:
        raise ValueError("expected a DER INTEGER")
    if content[0] & 0x80:
        raise ValueError("negative DER INTEGER")
    if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        raise ValueError("non-minimal DER INTEGER")
    return int.from_bytes(content, "big"), pos


def pkcs8(algorithm_identifier, private_key):
    return seq(integer(0), algorithm_identifier, tlv(0x04, private_key))


def spki(algorithm_identifier, public_key):
    return seq(algorithm_identifier, tlv(0x03, b"\0" + public_key))


def pem(label, der):
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def pem_blocks(data):
    """[(label, der)] of the PEM blocks in `data`."""
    text = data.decode("ascii", "replace") if isinstance(data, (bytes, bytearray)) else data
    out, pos = [], 0
    while True:
        start = text.find("-----BEGIN ", pos)
        if start < 0:
            return out
        head_end = text.find("-----", start + 11)
        if head_end < 0:
            return out
        label = text[start + 11:head_end]
        end = text.find(f"-----END {label}-----", head_end)
        if end < 0:
            raise ValueError(f"PEM block {label} has no END line")
        body = text[head_end + 5:end]
        if ":" in body:  # RFC 1421 headers: an encrypted traditional key
            out.append((label, None))
        else:
            try:
                out.append((label, base64.b64decode("".join(body.split()), validate=True)))
            except binascii.Error as err:
                raise ValueError(f"bad base64 in PEM block {label}") from err
        pos = end + len(label) + 14


def ed_key_from_pkcs8(der):
    """The raw private key of an Ed25519/Ed448 PKCS#8 DER, with its OID; else None."""
    try:
        tag, body, end = read_tlv(der)
        if tag != 0x30 or end != len(der):
            return None
        version, pos = read_integer(body)
        tag, alg, pos = read_tlv(body, pos)
        if version not in (0, 1) or tag != 0x30 or alg not in (OID_ED25519, OID_ED448):
            return None
        tag, octets, pos = read_tlv(body, pos)
        tag2, raw, end2 = read_tlv(octets)
        if tag != 0x04 or tag2 != 0x04 or end2 != len(octets):
            return None
        return alg, raw
    except ValueError:
        return None


def ed_key_from_spki(der):
    """The raw public key of an Ed25519/Ed448 SubjectPublicKeyInfo DER, with its OID."""
    try:
        tag, body, end = read_tlv(der)
        if tag != 0x30 or end != len(der):
            return None
        tag, alg, pos = read_tlv(body)
        if tag != 0x30 or alg not in (OID_ED25519, OID_ED448):
            return None
        tag, bits, pos = read_tlv(body, pos)
        if tag != 0x03 or pos != len(body) or not bits or bits[0] != 0:
            return None
        return alg, bits[1:]
    except ValueError:
        return None


def ssh_fields(blob):
    """The length-prefixed strings of an OpenSSH public key blob."""
    fields, pos = [], 0
    while pos < len(blob):
        if pos + 4 > len(blob):
            raise ValueError("truncated OpenSSH key")
        n = int.from_bytes(blob[pos:pos + 4], "big")
        pos += 4
        if pos + n > len(blob):
            raise ValueError("truncated OpenSSH key")
        fields.append(blob[pos:pos + n])
        pos += n
    return fields


def ssh_string(data):
    return len(data).to_bytes(4, "big") + data


def ssh_mpint(value):
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big") if value else b""
    return ssh_string(raw)
